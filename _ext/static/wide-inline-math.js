// Mark inline math that is wider than its text block (see korean-line-breaking.css).
// Each expression is measured when it comes within a screen of the viewport, not all
// at once: measuring every formula of a long chapter would lay out every section,
// which content-visibility: auto (lean-pages.css) leaves for when it is scrolled to.
(function () {
  "use strict";
  var BLOCK = "p, li, dd, dt, td, th, figcaption, caption, blockquote, .admonition, section, article";
  function measure(m) {
    var inner = m.firstElementChild;
    var block = m.parentElement && m.parentElement.closest(BLOCK);
    if (!inner || !block || block.clientWidth === 0) return;  // hidden (a closed dropdown)
    var style = getComputedStyle(block);
    var room = block.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    m.classList.toggle("math-wide", inner.getBoundingClientRect().width > room + 0.5);
  }
  function start() {
    var maths = Array.prototype.slice.call(document.querySelectorAll('mjx-container:not([display="true"])'));
    var near = maths;  // without IntersectionObserver: all of them, every time
    if (window.IntersectionObserver) {
      near = new Set();
      var watch = new IntersectionObserver(function (entries) {
        entries.forEach(function (e) {
          if (e.isIntersecting) {
            near.add(e.target);
            measure(e.target);  // on coming into view (or out of a closed dropdown)
          } else {
            near.delete(e.target);
          }
        });
      }, {rootMargin: "100% 0px"});
      maths.forEach(function (m) { watch.observe(m); });
    } else {
      maths.forEach(measure);
    }
    // A new width (a rotated phone, a resized window) re-measures what is near the
    // screen; the rest is measured again when it comes near.
    var width = document.body.clientWidth, pending = false;
    function again() {
      if (pending || document.body.clientWidth === width) return;
      pending = true;
      requestAnimationFrame(function () {
        pending = false;
        width = document.body.clientWidth;
        near.forEach(measure);
        if (near !== maths) {
          maths.forEach(function (m) { if (!near.has(m)) m.classList.remove("math-wide"); });
        }
      });
    }
    if (window.ResizeObserver) new ResizeObserver(again).observe(document.body);
    window.addEventListener("resize", again);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
