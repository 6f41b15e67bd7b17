/* Guide kiosk (DEV-3, GUIDE-1): an unattended full-screen page.

   - reports in: POST data-heartbeat-url at load and every data-beat seconds;
   - a failed request shows #offline-banner and is retried with backoff (2, 4, 8 … s, at most
     the beat); the banner hides when a request succeeds again;
   - offline it keeps working with what it has: partials already fetched are shown again
     from memory, and the directory is filtered in the page;
   - after data-idle seconds without a touch it returns to its home state;
   - the strip of offers and guides turns every data-rotate seconds. */
(function () {
  "use strict";
  var root = document.getElementById("kiosk");
  if (!root) return;

  function seconds(name, fallback, low) {
    var value = parseInt(root.getAttribute(name), 10);
    return Math.max(isNaN(value) ? fallback : value, low) * 1000;
  }

  var BEAT = seconds("data-beat", 60, 1);
  var IDLE = seconds("data-idle", 60, 5);
  var ROTATE = seconds("data-rotate", 8, 2);
  var banner = document.getElementById("offline-banner");
  var stage = document.getElementById("kiosk-stage");
  var results = document.getElementById("kiosk-results");
  var input = document.getElementById("kiosk-q");
  var homeStage = document.getElementById("kiosk-home-stage");
  var homeResults = document.getElementById("kiosk-home-results");
  var clock = document.getElementById("kiosk-clock");
  var cache = {}; // url → HTML of partials fetched while online
  var failures = 0;
  var timer = null;
  var lastTouch = Date.now();

  function csrf() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function online(yes) {
    banner.hidden = yes;
    root.setAttribute("data-online", yes ? "1" : "0");
  }

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(heartbeat, ms);
  }

  function failed() {
    failures += 1;
    online(false);
    schedule(Math.min(BEAT, 1000 * Math.pow(2, Math.min(failures, 6))));
  }

  function heartbeat() {
    clearTimeout(timer);
    var controller = window.AbortController ? new AbortController() : null;
    var limit = setTimeout(function () {
      if (controller) controller.abort();
    }, 10000);
    fetch(root.getAttribute("data-heartbeat-url"), {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json", "X-CSRFToken": csrf() },
      signal: controller ? controller.signal : undefined
    })
      .then(function (response) {
        clearTimeout(limit);
        if (response.status >= 500) throw new Error(String(response.status));
        failures = 0;
        online(true);
        schedule(BEAT);
      })
      .catch(function () {
        clearTimeout(limit);
        failed();
      });
  }

  /* --- home state ---------------------------------------------------------------------- */
  function atHome() {
    return (
      root.getAttribute("data-state") === "home" &&
      results.getAttribute("data-home") === "1" &&
      !input.value
    );
  }

  function goHome() {
    stage.innerHTML = homeStage.innerHTML;
    results.innerHTML = homeResults.innerHTML;
    htmx.process(stage);
    htmx.process(results);
    input.value = "";
    root.setAttribute("data-state", "home");
    results.setAttribute("data-home", "1");
    pressChip(null);
    window.scrollTo(0, 0);
    if (results.scrollTo) results.scrollTo(0, 0);
  }

  function pressChip(category) {
    var chips = document.querySelectorAll(".k-chip");
    for (var i = 0; i < chips.length; i++) {
      chips[i].setAttribute(
        "aria-pressed",
        chips[i].getAttribute("data-category") === category ? "true" : "false"
      );
    }
  }

  function stageChanged() {
    var shown = stage.querySelector("[data-stage]");
    root.setAttribute("data-state", shown ? shown.getAttribute("data-stage") : "home");
  }

  ["pointerdown", "touchstart", "keydown", "input", "wheel"].forEach(function (name) {
    document.addEventListener(
      name,
      function () {
        lastTouch = Date.now();
      },
      { passive: true, capture: true }
    );
  });
  setInterval(function () {
    if (Date.now() - lastTouch >= IDLE && !atHome()) goHome();
  }, 1000);

  document.addEventListener("click", function (event) {
    var back = event.target.closest && event.target.closest("[data-kiosk-home]");
    if (back) {
      event.preventDefault();
      goHome();
      return;
    }
    var chip = event.target.closest && event.target.closest(".k-chip");
    if (chip) {
      input.value = "";
      pressChip(chip.getAttribute("data-category"));
    }
  });

  /* --- offline: keep working with what was fetched --------------------------------------- */
  function filterDirectory() {
    var term = (input.value || "").toLowerCase().replace(/\s+/g, "");
    var pressed = document.querySelector(".k-chip[aria-pressed=true]");
    results.innerHTML = homeResults.innerHTML;
    var items = results.querySelectorAll("li");
    for (var i = 0; i < items.length; i++) {
      var button = items[i].querySelector("[data-keys]");
      if (!button) continue;
      var keys = (button.getAttribute("data-keys") || "").replace(/\s+/g, "");
      var detail = button.textContent || "";
      var byTerm = !term || keys.indexOf(term) >= 0;
      var byChip = !pressed || detail.indexOf(pressed.textContent.trim()) >= 0;
      if (!(byTerm && byChip)) items[i].remove();
    }
    htmx.process(results);
    results.setAttribute("data-home", term || pressed ? "0" : "1");
  }

  function pathOf(detail) {
    var info = detail.pathInfo || {};
    return info.finalRequestPath || info.requestPath || "";
  }

  document.body.addEventListener("htmx:afterRequest", function (event) {
    var detail = event.detail;
    if (detail.successful && detail.xhr) {
      cache[pathOf(detail)] = detail.xhr.responseText;
      failures = 0;
      online(true);
    }
  });

  document.body.addEventListener("htmx:sendError", function (event) {
    var detail = event.detail;
    var target = detail.target;
    var kept = cache[pathOf(detail)];
    failed();
    if (kept !== undefined && target) {
      target.innerHTML = kept;
      htmx.process(target);
      if (target === stage) stageChanged();
      if (target === results) results.setAttribute("data-home", "0");
    } else if (target === results) {
      filterDirectory();
    }
  });

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target === stage) stageChanged();
    if (event.detail.target === results) {
      results.setAttribute("data-home", input.value || document.querySelector(".k-chip[aria-pressed=true]") ? "0" : "1");
    }
  });

  window.addEventListener("online", heartbeat);
  window.addEventListener("offline", failed);

  /* --- strip and clock ----------------------------------------------------------------- */
  var strip = document.querySelectorAll("#kiosk-strip .k-strip-item");
  var turn = 0;
  if (strip.length > 1) {
    setInterval(function () {
      strip[turn].classList.remove("active");
      turn = (turn + 1) % strip.length;
      strip[turn].classList.add("active");
    }, ROTATE);
  }

  function tick() {
    var now = new Date();
    clock.textContent =
      String(now.getHours()).padStart(2, "0") + ":" + String(now.getMinutes()).padStart(2, "0");
  }
  tick();
  setInterval(tick, 15000);

  heartbeat();
})();
