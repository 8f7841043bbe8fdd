// Mark inline math that is wider than its text block (see korean-line-breaking.css).
(function () {
  "use strict";
  var BLOCK = "p, li, dd, dt, td, th, figcaption, caption, blockquote, .admonition, section, article";
  function mark() {
    var maths = document.querySelectorAll('mjx-container:not([display="true"])');
    for (var i = 0; i < maths.length; i++) {
      var m = maths[i];
      var inner = m.firstElementChild;
      var block = m.parentElement && m.parentElement.closest(BLOCK);
      if (!inner || !block || block.clientWidth === 0) continue;  // hidden (a closed dropdown)
      var style = getComputedStyle(block);
      var room = block.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      m.classList.toggle("math-wide", inner.getBoundingClientRect().width > room + 0.5);
    }
  }
  var pending = false;
  function later() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; mark(); });
  }
  function start() {
    // Width changes (a rotated phone, an opened dropdown) re-measure.  The math is
    // typeset at build time, so it is already in place when this runs.
    if (window.ResizeObserver) new ResizeObserver(later).observe(document.body);
    window.addEventListener("resize", later);
    later();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
