/* APP-1: the home shell follows the shopper's position, with their consent.

   The browser's position (navigator.geolocation.watchPosition) is posted to
   /api/v1/nav/context with `current` = the mall whose page is shown, so that the server's
   hysteresis keeps the page steady at a mall's edge. When the answer differs from what is
   shown, the mall or life partial is swapped into #home-main (HTMX). Without consent the API
   answers 403 consent_required: the page asks, and a button grants it. A tab the shopper
   chooses stays until the answer changes (they walk into or out of a mall).

   #home-main carries data-page (mall | life | citizen) and data-mall (the mall's code). */
(function () {
  "use strict";
  var app = document.getElementById("home-app");
  if (!app || !window.htmx) return;
  var main = document.getElementById("home-main");
  var ask = document.getElementById("location-ask");
  var status = document.getElementById("location-status");
  var consentForm = document.getElementById("location-consent-form");
  var picker = document.getElementById("mall-picker");
  var AUTO = "X-Agora-Auto";

  var watching = null;
  var fix = null; // the newest position
  var busy = false;
  var again = false;
  var answer = null; // the server's newest answer, "mall:<code>" or "life:"
  var answerMall = "";
  var chosen = null; // the answer in force when the shopper last chose a page themselves
  var shownOnce = false; // a page was swapped in for a position

  function text(name) {
    return app.getAttribute("data-msg-" + name) || "";
  }

  function say(message) {
    if (status) status.textContent = message;
  }

  function csrf() {
    try {
      var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      if (headers["X-CSRFToken"]) return headers["X-CSRFToken"];
    } catch (e) { /* fall through */ }
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function markTabs(page) {
    var tabs = document.querySelectorAll("#home-tabs [data-tab]");
    for (var i = 0; i < tabs.length; i++) {
      if (tabs[i].getAttribute("data-tab") === page) tabs[i].setAttribute("aria-current", "page");
      else tabs[i].removeAttribute("aria-current");
    }
  }

  /* after any swap into #home-main: its data-page/data-mall follow the partial's root */
  function syncState() {
    var root = main.querySelector("[data-page]");
    if (!root) return;
    main.setAttribute("data-page", root.getAttribute("data-page"));
    main.setAttribute("data-mall", root.getAttribute("data-mall") || "");
    markTabs(root.getAttribute("data-page"));
  }

  function mallUrl(code) {
    return app.getAttribute("data-mall-url").replace("MALL", encodeURIComponent(code));
  }

  function lifeUrl() {
    var url = app.getAttribute("data-life-url");
    if (fix) {
      url += "?lat=" + fix.latitude.toFixed(5) + "&lon=" + fix.longitude.toFixed(5);
    }
    return url;
  }

  function load(url, auto) {
    var headers = {};
    if (auto) headers[AUTO] = "1";
    return htmx.ajax("GET", url, { target: "#home-main", swap: "innerHTML", headers: headers });
  }

  function show(page, code) {
    shownOnce = true;
    return load(page === "mall" ? mallUrl(code) : lifeUrl(), true);
  }

  function apply(result) {
    var code = result.page === "mall" ? result.mall_code || "" : "";
    var key = result.page + ":" + code;
    var changed = key !== answer;
    answer = key;
    answerMall = code;
    if (result.page === "mall") say(text("in-mall").replace("{mall}", result.mall_name));
    else say(text("outside"));
    if (chosen !== null && !changed) return; // keep the page the shopper chose
    chosen = null;
    var samePage = main.getAttribute("data-page") === result.page;
    var sameMall = (main.getAttribute("data-mall") || "") === code;
    if (shownOnce && samePage && sameMall) return;
    show(result.page, code);
  }

  function send() {
    if (!fix) return;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    var current = main.getAttribute("data-page") === "mall" ? main.getAttribute("data-mall") : answerMall;
    fetch(app.getAttribute("data-context-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrf()
      },
      body: JSON.stringify({
        latitude: fix.latitude,
        longitude: fix.longitude,
        accuracy_m: Math.min(Math.max(fix.accuracy || 0, 0), 100000),
        current: current || ""
      })
    })
      .then(function (response) {
        return response.json().then(function (body) {
          return { status: response.status, body: body };
        });
      })
      .then(function (res) {
        if (res.status === 403 && res.body && res.body.code === "consent_required") {
          stop();
          app.setAttribute("data-consent", "0");
          if (ask) ask.hidden = false;
          return;
        }
        if (res.status !== 200) {
          say(text("error"));
          return;
        }
        apply(res.body);
      })
      .catch(function () {
        say(text("error"));
      })
      .then(function () {
        busy = false;
        if (again) {
          again = false;
          send();
        }
      });
  }

  function onFix(position) {
    fix = position.coords;
    send();
  }

  function onError(error) {
    if (error && error.code === 1) {
      stop();
      say(text("denied"));
    } else {
      say(text("no-fix"));
    }
  }

  function start() {
    if (!("geolocation" in navigator)) {
      say(text("no-geo"));
      return;
    }
    if (watching !== null) return;
    say(text("locating"));
    watching = navigator.geolocation.watchPosition(onFix, onError, {
      enableHighAccuracy: true,
      maximumAge: 5000,
      timeout: 30000
    });
  }

  function stop() {
    if (watching !== null) navigator.geolocation.clearWatch(watching);
    watching = null;
  }

  /* the consent button: granted without leaving the page, then the position is watched */
  if (consentForm) {
    consentForm.addEventListener("submit", function (event) {
      event.preventDefault();
      fetch(consentForm.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrf() },
        body: new FormData(consentForm)
      })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function () {
          app.setAttribute("data-consent", "1");
          if (ask) ask.hidden = true;
          start();
        })
        .catch(function () {
          say(text("error"));
        });
    });
  }

  /* tabs: the shopper's own choice */
  var tabs = document.querySelectorAll("#home-tabs [data-tab]");
  for (var i = 0; i < tabs.length; i++) {
    tabs[i].addEventListener("click", function (event) {
      var tab = event.currentTarget.getAttribute("data-tab");
      event.preventDefault();
      chosen = answer || "none";
      if (tab === "life") load(lifeUrl(), false);
      else if (tab === "citizen") load(app.getAttribute("data-citizen-url"), false);
      else {
        var code = main.getAttribute("data-page") === "mall" ? main.getAttribute("data-mall") : answerMall;
        if (code) load(mallUrl(code), false);
        else if (picker) {
          say(text("pick"));
          picker.scrollIntoView({ block: "center" });
          picker.focus();
        }
      }
    });
  }

  /* a mall picked by hand (picker, nearby malls) is a choice too */
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var cfg = event.detail.requestConfig || {};
    if (event.detail.target !== main) return;
    if (!(cfg.headers && cfg.headers[AUTO])) chosen = answer || "none";
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target === main) syncState();
  });

  if (app.getAttribute("data-consent") === "1") start();
})();
