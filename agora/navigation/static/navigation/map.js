/* Pan and zoom for every svg.nav-map, by changing its viewBox: drag to pan, two fingers to
   pinch, the mouse wheel, and the +, − and reset buttons. No libraries. Also: pickers mark a
   picked place, and the language switch follows pages swapped in by HTMX. */
(function () {
  "use strict";

  var MIN_ZOOM = 1 / 10; // the smallest view is a tenth of the whole floor
  var MAX_ZOOM = 1.25; // and the largest a little more than the floor
  var DRAG_PX = 5; // movement below this is a tap, not a drag

  function parseBox(text) {
    var v = (text || "").trim().split(/[\s,]+/).map(Number);
    return { x: v[0], y: v[1], w: v[2], h: v[3] };
  }

  function setup(svg) {
    if (svg.dataset.navMap === "on") return;
    svg.dataset.navMap = "on";
    var home = parseBox(svg.getAttribute("viewBox"));
    var box = { x: home.x, y: home.y, w: home.w, h: home.h };
    var pointers = new Map();
    var gesture = null; // {kind: "pan"|"pinch", ...}
    var moved = false;

    function apply() {
      svg.setAttribute("viewBox", [box.x, box.y, box.w, box.h].map(function (n) {
        return Math.round(n * 100) / 100;
      }).join(" "));
    }

    // the screen geometry of a viewBox under preserveAspectRatio="xMidYMid meet"
    function frame(b) {
      var r = svg.getBoundingClientRect();
      var s = Math.max(b.w / (r.width || 1), b.h / (r.height || 1)); // units per pixel
      return {
        left: r.left + (r.width - b.w / s) / 2,
        top: r.top + (r.height - b.h / s) / 2,
        s: s,
      };
    }

    function toSvg(cx, cy, b) {
      var f = frame(b);
      return { x: b.x + (cx - f.left) * f.s, y: b.y + (cy - f.top) * f.s };
    }

    function clamp(b) {
      var w = Math.min(Math.max(b.w, home.w * MIN_ZOOM), home.w * MAX_ZOOM);
      var h = (w * home.h) / home.w;
      var cx = b.x + b.w / 2;
      var cy = b.y + b.h / 2;
      cx = Math.min(Math.max(cx, home.x), home.x + home.w);
      cy = Math.min(Math.max(cy, home.y), home.y + home.h);
      return { x: cx - w / 2, y: cy - h / 2, w: w, h: h };
    }

    // zoom by k (< 1: in) keeping the svg point p under the client point (cx, cy)
    function zoomAt(from, k, p, cx, cy) {
      var w = from.w * k;
      var h = from.h * k;
      var target = { x: 0, y: 0, w: w, h: h };
      var f = frame(target);
      target.x = p.x - (cx - f.left) * f.s;
      target.y = p.y - (cy - f.top) * f.s;
      var c = clamp(target);
      if (c.w !== w) {
        // clamped size: keep the point under the finger anyway
        var f2 = frame(c);
        c.x = p.x - (cx - f2.left) * f2.s;
        c.y = p.y - (cy - f2.top) * f2.s;
        c = clamp(c);
      }
      box = c;
      apply();
    }

    function zoomCentre(k) {
      var r = svg.getBoundingClientRect();
      var cx = r.left + r.width / 2;
      var cy = r.top + r.height / 2;
      zoomAt(box, k, toSvg(cx, cy, box), cx, cy);
    }

    function two() {
      var list = Array.from(pointers.values());
      var a = list[0];
      var b = list[1];
      return {
        d: Math.hypot(a.x - b.x, a.y - b.y) || 1,
        cx: (a.x + b.x) / 2,
        cy: (a.y + b.y) / 2,
      };
    }

    function startGesture() {
      var from = { x: box.x, y: box.y, w: box.w, h: box.h };
      if (pointers.size >= 2) {
        var t = two();
        gesture = { kind: "pinch", from: from, d: t.d, p: toSvg(t.cx, t.cy, from) };
      } else if (pointers.size === 1) {
        var only = Array.from(pointers.values())[0];
        gesture = { kind: "pan", from: from, x: only.x, y: only.y };
      } else {
        gesture = null;
      }
    }

    svg.addEventListener("pointerdown", function (e) {
      if (e.pointerType === "mouse" && e.button !== 0) return;
      pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (pointers.size === 1) moved = false;
      startGesture();
    });

    svg.addEventListener("pointermove", function (e) {
      if (!pointers.has(e.pointerId) || !gesture) return;
      pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (gesture.kind === "pinch" && pointers.size >= 2) {
        var t = two();
        moved = true;
        zoomAt(gesture.from, gesture.d / t.d, gesture.p, t.cx, t.cy);
      } else if (gesture.kind === "pan") {
        var dx = e.clientX - gesture.x;
        var dy = e.clientY - gesture.y;
        if (!moved && Math.hypot(dx, dy) < DRAG_PX) return;
        if (!moved) {
          moved = true;
          svg.classList.add("dragging");
          try {
            svg.setPointerCapture(e.pointerId);
          } catch (err) {
            /* the pointer is already gone */
          }
        }
        var s = frame(gesture.from).s;
        box = clamp({
          x: gesture.from.x - dx * s,
          y: gesture.from.y - dy * s,
          w: gesture.from.w,
          h: gesture.from.h,
        });
        apply();
      }
      e.preventDefault();
    });

    function release(e) {
      if (!pointers.has(e.pointerId)) return;
      pointers.delete(e.pointerId);
      svg.classList.remove("dragging");
      startGesture(); // a pinch that loses a finger goes on as a pan
    }
    svg.addEventListener("pointerup", release);
    svg.addEventListener("pointercancel", release);
    svg.addEventListener("lostpointercapture", release);

    // a drag is not a tap on a shop's link
    svg.addEventListener(
      "click",
      function (e) {
        if (moved) {
          e.preventDefault();
          e.stopPropagation();
          moved = false;
        }
      },
      true
    );

    svg.addEventListener(
      "wheel",
      function (e) {
        e.preventDefault();
        var unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1;
        var k = Math.exp(Math.max(-100, Math.min(100, e.deltaY * unit)) * 0.0025);
        zoomAt(box, k, toSvg(e.clientX, e.clientY, box), e.clientX, e.clientY);
      },
      { passive: false }
    );

    var figure = svg.closest("figure") || svg.parentNode;
    var controls = figure.querySelector(".map-controls");
    if (controls) {
      controls.hidden = false;
      controls.addEventListener("click", function (e) {
        var button = e.target.closest("button[data-zoom]");
        if (!button) return;
        var what = button.dataset.zoom;
        if (what === "in") zoomCentre(1 / 1.5);
        else if (what === "out") zoomCentre(1.5);
        else {
          box = { x: home.x, y: home.y, w: home.w, h: home.h };
          apply();
        }
      });
    }
  }

  function init(root) {
    (root || document).querySelectorAll("svg.nav-map").forEach(setup);
  }

  // the text box no longer shows the picked place once the shopper types
  document.addEventListener("input", function (e) {
    var box = e.target;
    if (box.classList && box.classList.contains("place-q") && box.dataset.picked !== undefined) {
      if (box.value !== box.dataset.picked) box.removeAttribute("data-picked");
    }
  });

  // pages swapped in by HTMX: the language switch returns to the page now shown
  document.addEventListener("htmx:pushedIntoHistory", function () {
    document.querySelectorAll(".lang-switch input[name=next]").forEach(function (input) {
      input.value = window.location.pathname + window.location.search;
    });
  });

  document.addEventListener("htmx:load", function (e) {
    init(e.detail && e.detail.elt);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      init(document);
    });
  } else {
    init(document);
  }
})();
