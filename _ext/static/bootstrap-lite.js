// What this book's pages use of Bootstrap's JavaScript, in place of the theme's
// 81 kB bundle (lean_pages.py writes this file over _static/scripts/bootstrap.js):
//  * tooltips on [data-bs-toggle="tooltip"] (the header buttons) and the one tooltip
//    pydata-sphinx-theme.js creates itself (new bootstrap.Tooltip), drawn with the
//    theme's own .tooltip classes;
//  * the "back to top" button (#pst-back-to-top): shown while scrolling up below the
//    header, a click scrolls to the top;
//  * the download menu, [data-bs-toggle="dropdown"]: a click opens and closes it
//    (hover already opens it in sphinx-book-theme's CSS), Escape and a click outside
//    close it.
(function () {
  "use strict";
  var GAP = 6;
  function Tooltip(el, options) {
    options = options || {};
    this.el = el;
    this.title = options.title || el.getAttribute("data-bs-title") || el.getAttribute("title") || "";
    this.placement = options.placement || el.getAttribute("data-bs-placement") || "top";
    this.tip = null;
    if (el.hasAttribute("title")) {  // shown by us, not also by the browser
      el.setAttribute("data-bs-original-title", el.getAttribute("title"));
      el.removeAttribute("title");
    }
    if ((options.trigger || "hover focus") !== "manual") {
      var self = this, timer = null, delay = options.delay || { show: 0, hide: 0 };
      var later = function (fn, ms) { clearTimeout(timer); timer = setTimeout(fn, ms); };
      var enter = function () { later(function () { self.show(); }, delay.show); };
      var leave = function () { later(function () { self.hide(); }, delay.hide); };
      el.addEventListener("mouseenter", enter);
      el.addEventListener("mouseleave", leave);
      el.addEventListener("focusin", enter);
      el.addEventListener("focusout", leave);
    }
  }
  Tooltip.prototype.show = function () {
    if (this.tip || !this.title) return;
    var side = { top: "top", bottom: "bottom", left: "start", right: "end" }[this.placement] || "top";
    var tip = document.createElement("div");
    tip.className = "tooltip bs-tooltip-" + side + " show";
    tip.setAttribute("role", "tooltip");
    tip.style.position = "absolute";
    tip.innerHTML = '<div class="tooltip-arrow"></div><div class="tooltip-inner"></div>';
    tip.lastChild.textContent = this.title;
    document.body.appendChild(tip);
    var r = this.el.getBoundingClientRect(), t = tip.getBoundingClientRect();
    var x = scrollX + r.left + (r.width - t.width) / 2, y = scrollY + r.top + (r.height - t.height) / 2;
    if (side === "top") y = scrollY + r.top - t.height - GAP;
    if (side === "bottom") y = scrollY + r.bottom + GAP;
    if (side === "start") x = scrollX + r.left - t.width - GAP;
    if (side === "end") x = scrollX + r.right + GAP;
    tip.style.left = Math.max(scrollX, x) + "px";
    tip.style.top = Math.max(scrollY, y) + "px";
    var arrow = tip.firstChild;
    if (side === "top" || side === "bottom") arrow.style.left = (t.width / 2 - 6) + "px";
    else arrow.style.top = (t.height / 2 - 6) + "px";
    this.tip = tip;
  };
  Tooltip.prototype.hide = function () {
    if (this.tip) { this.tip.remove(); this.tip = null; }
  };
  Tooltip.prototype.dispose = Tooltip.prototype.hide;

  function menuOf(toggle) {
    var next = toggle.nextElementSibling;
    return next && next.classList.contains("dropdown-menu") ? next : null;
  }
  function setOpen(toggle, open) {
    var menu = menuOf(toggle);
    toggle.classList.toggle("show", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (menu) menu.classList.toggle("show", open);
  }
  function closeAll(except) {
    document.querySelectorAll('[data-bs-toggle="dropdown"].show').forEach(function (t) {
      if (t !== except) setOpen(t, false);
    });
  }
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest('[data-bs-toggle="dropdown"]');
    closeAll(toggle);
    if (toggle) {
      event.preventDefault();
      setOpen(toggle, !toggle.classList.contains("show"));
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeAll(null);
  });
  function start() {
    document.querySelectorAll('[data-bs-toggle="tooltip"]').forEach(function (el) {
      new Tooltip(el, { delay: { show: 500, hide: 100 } });
    });
    var top = document.getElementById("pst-back-to-top"), header = document.querySelector(".bd-header");
    if (top && header) {
      var bottom = header.getBoundingClientRect().bottom, last = scrollY;
      top.addEventListener("click", function () {
        document.body.scrollTop = 0;
        document.documentElement.scrollTop = 0;
      });
      addEventListener("scroll", function () {
        top.style.display = last > scrollY && scrollY > bottom ? "block" : "none";
        last = scrollY;
      });
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  window.bootstrap = { Tooltip: Tooltip };
})();
