/* Live free parking spaces (PARK-3, PUB-6, APP-4): server-sent events, no libraries.

   Every element with data-parking-live="<stream url>" subscribes to it (EventSource, event
   name in data-event: "district" for /parking/live/, "availability" for
   /parking/live/<code>/) and updates the numbers inside it in place:

     [data-free="<car park>"], [data-total="<car park>"]   free and total spaces
     [data-car-park="<car park>"][data-full]                 "true" when past its threshold
     [data-level-free="<level>"], [data-zone-free="<zone>"], [data-kind-free="<kind>"]

   The page works without this script: every number is rendered on the server. When the
   figures need more than a number (a car park became full and needs its overflow advice, a
   level's plan changed), the element's data-refresh URL is fetched and its content replaced.
   The browser reconnects by itself when the server ends a stream (it does every ~25 s); the
   last event id goes with it, so nothing is sent again unless it changed. Elements swapped
   out by HTMX close their stream. */
(function () {
  "use strict";
  if (window.AgoraParking) {
    window.AgoraParking.scan(document);
    return;
  }

  var live = []; // {root, source}
  var FLASH_MS = 1500;

  function each(root, selector, fn) {
    var found = root.querySelectorAll(selector);
    for (var i = 0; i < found.length; i++) fn(found[i]);
  }

  function attr(name, value) {
    var v = String(value);
    if (window.CSS && CSS.escape) v = CSS.escape(v);
    else v = v.replace(/["\\]/g, "\\$&");
    return "[" + name + '="' + v + '"]';
  }

  function setNumber(root, name, key, value) {
    if (value === undefined || value === null) return;
    each(root, attr(name, key), function (el) {
      var text = String(value);
      if (el.textContent === text) return;
      el.textContent = text;
      el.classList.add("pk-changed");
      window.setTimeout(function () {
        el.classList.remove("pk-changed");
      }, FLASH_MS);
    });
  }

  function setFull(root, code, full) {
    var changed = false;
    var value = full ? "true" : "false";
    each(root, attr("data-car-park", code), function (el) {
      if (!el.hasAttribute("data-full")) return;
      if (el.getAttribute("data-full") !== value) changed = true;
      el.setAttribute("data-full", value);
    });
    return changed;
  }

  function refresh(root) {
    var url = root.getAttribute("data-refresh");
    if (!url || root.getAttribute("data-refreshing") === "1") return;
    root.setAttribute("data-refreshing", "1");
    fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        if (document.body.contains(root)) {
          root.innerHTML = html;
          if (window.htmx) window.htmx.process(root);
        }
      })
      .catch(function () {
        /* the numbers stay as the stream left them */
      })
      .then(function () {
        root.removeAttribute("data-refreshing");
      });
  }

  function onDistrict(root, rows) {
    var fullChanged = false;
    var version = 0;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      setNumber(root, "data-free", r.car_park, r.free);
      setNumber(root, "data-total", r.car_park, r.total);
      if (setFull(root, r.car_park, r.full)) fullChanged = true;
      version += Number(r.version) || 0;
    }
    var moved = String(version) !== root.getAttribute("data-version");
    root.setAttribute("data-version", String(version));
    // the overflow advice, or a search by kind, needs the server's figures
    if (moved && (fullChanged || root.hasAttribute("data-kind"))) refresh(root);
  }

  function onCarPark(root, a) {
    setNumber(root, "data-free", a.car_park, a.free);
    setNumber(root, "data-total", a.car_park, a.total);
    var i;
    for (i = 0; i < (a.levels || []).length; i++) {
      setNumber(root, "data-level-free", a.levels[i].name, a.levels[i].free);
    }
    for (i = 0; i < (a.zones || []).length; i++) {
      setNumber(root, "data-zone-free", a.zones[i].code, a.zones[i].free);
    }
    var kinds = a.kinds || {};
    Object.keys(kinds).forEach(function (k) {
      setNumber(root, "data-kind-free", k, kinds[k].free);
    });
    each(root, "[data-full]", function (el) {
      el.setAttribute("data-full", a.full ? "true" : "false");
    });
    var moved = String(a.version) !== root.getAttribute("data-version");
    root.setAttribute("data-version", String(a.version));
    if (moved) refresh(root); // the plan's spaces and the overflow advice
  }

  function connect(root) {
    if (root.getAttribute("data-parking-on") === "1" || !window.EventSource) return;
    root.setAttribute("data-parking-on", "1");
    var url = root.getAttribute("data-parking-live");
    var version = root.getAttribute("data-version");
    if (version) url += (url.indexOf("?") < 0 ? "?" : "&") + "since=" + encodeURIComponent(version);
    var name = root.getAttribute("data-event") || "availability";
    var source = new EventSource(url);
    var entry = { root: root, source: source };
    live.push(entry);
    source.addEventListener(name, function (event) {
      if (!document.body.contains(root)) {
        close(entry);
        return;
      }
      var data;
      try {
        data = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      if (name === "district") onDistrict(root, data);
      else onCarPark(root, data);
      root.setAttribute("data-live", "on");
    });
    source.addEventListener("open", function () {
      root.setAttribute("data-live", "on");
    });
    source.addEventListener("error", function () {
      root.setAttribute("data-live", "reconnecting");
    });
  }

  function close(entry) {
    entry.source.close();
    live = live.filter(function (e) {
      return e !== entry;
    });
  }

  function sweep() {
    live.slice().forEach(function (entry) {
      if (!document.body.contains(entry.root)) close(entry);
    });
  }

  function scan(scope) {
    sweep();
    var root = scope && scope.querySelectorAll ? scope : document;
    if (root.matches && root.matches("[data-parking-live]")) connect(root);
    each(root, "[data-parking-live]", connect);
  }

  window.AgoraParking = { scan: scan };
  document.addEventListener("htmx:load", function (e) {
    scan(e.detail && e.detail.elt);
  });
  document.addEventListener("htmx:afterSwap", sweep);
  window.addEventListener("pagehide", function () {
    live.slice().forEach(close);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      scan(document);
    });
  } else {
    scan(document);
  }
})();
