// Typeset math only after the page's web fonts have loaded.  MathJax measures
// the width of text inside formulas (\text{잔차}); measured with a fallback font
// before the Korean web font arrives, the boxes would be sized for the wrong font.
// Runs after the `window.MathJax = {...}` configuration and before MathJax itself.
if (window.MathJax) {
  window.MathJax.startup = Object.assign(window.MathJax.startup || {}, {
    pageReady: () => document.fonts.ready.then(() => MathJax.startup.defaultPageReady()),
  });
}
