function I(){
  // The theme's rule, unchanged: a code block, cell output or table wider or taller than
  // its box is a tab stop (tabIndex 0, so a keyboard can scroll it), others are not (-1).
  // The theme applied it to every such element at the load event, which lays out every
  // section of a long chapter (content-visibility: auto in lean-pages.css leaves them for
  // later), about 0.8 s on a slow phone.  Here an element is judged when it comes within
  // a screen of the viewport, and the others, section by section, while the page is idle.
  var selector = ["pre", ".nboutput > .output_area", ".cell_output > .output",
                  ".jp-RenderedHTMLCommon", ".pst-scrollable-table-container"].join(", ");
  var judged = new WeakSet();
  function judge(el) {
    el.tabIndex = el.scrollWidth > el.clientWidth || el.scrollHeight > el.clientHeight ? 0 : -1;
    judged.add(el);
  }
  var near = new Set();
  var watch = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
    entries.forEach(function (e) {
      if (e.isIntersecting) { near.add(e.target); judge(e.target); } else { near.delete(e.target); }
    });
  }, {rootMargin: "100% 0px"}) : null;
  var idle = window.requestIdleCallback || function (f) { return setTimeout(function () {
    f({timeRemaining: function () { return 8; }});
  }, 50); };
  var queue = [], queued = false;
  function drain(deadline) {
    while (queue.length && deadline.timeRemaining() > 4) {
      var el = queue.shift();
      if (!judged.has(el)) judge(el);
    }
    queued = queue.length > 0;
    if (queued) idle(drain);
  }
  function all(rejudge) {
    var found = document.querySelectorAll(selector);
    found.forEach(function (el) {
      if (rejudge) judged.delete(el);
      if (watch) watch.observe(el);
    });
    near.forEach(judge);
    queue = Array.prototype.filter.call(found, function (el) { return !judged.has(el); });
    if (!queued && queue.length) { queued = true; idle(drain); }
  }
  var t = _(function () { all(true); }, 300);
  window.addEventListener("resize", t);
  new MutationObserver(_(function () { all(false); }, 300)).observe(document.getElementById("main-content"), {subtree: !0, childList: !0});
  all(false);
}
