/* Parking operators' pages, the gate displays and the government overview.
 *
 * 1. Live figures: every element with data-live-url opens an EventSource on it. Events
 *    "availability" (one car park) update [data-free], [data-total], [data-occupancy], the
 *    levels ([data-level] [data-level-free]), data-full and the overflow list; events
 *    "district" (every car park) update the rows [data-car-park=<code>]. When the figures
 *    moved (their version changed), "parking:changed" is sent on <body> so that sections with
 *    hx-trigger="parking:changed from:body" reload themselves from the server.
 * 2. Charts: every [data-chart] is drawn with ECharts (vendored, never a CDN) from the JSON in
 *    <script id="parking-charts">. Without JavaScript the tables beside them say the same.
 */
(function () {
  "use strict";

  function setText(root, selector, value) {
    root.querySelectorAll(selector).forEach(function (el) {
      el.textContent = String(value);
    });
  }

  function changed() {
    document.body.dispatchEvent(new CustomEvent("parking:changed", { bubbles: true }));
  }

  function fillOverflow(root, list) {
    var ul = root.querySelector("[data-overflow]");
    var tpl = root.querySelector("template[data-overflow-item]");
    var title = root.querySelector("[data-overflow-title]");
    if (!ul || !tpl) return;
    ul.textContent = "";
    (list || []).forEach(function (o) {
      var li = tpl.content.firstElementChild.cloneNode(true);
      li.setAttribute("data-overflow-car-park", o.car_park);
      li.querySelector("[data-name]").textContent = o.name;
      li.querySelectorAll("[data-text]").forEach(function (el) {
        el.textContent = el.getAttribute("data-text")
          .replace("__N__", String(o.free))
          .replace("__M__", String(o.distance_m));
      });
      ul.appendChild(li);
    });
    if (title) title.hidden = !(list && list.length);
  }

  function applyAvailability(root, data) {
    setText(root, "[data-free]", data.free);
    setText(root, "[data-total]", data.total);
    setText(root, "[data-occupancy]", data.occupancy_pct);
    var full = data.full ? "1" : "0";
    root.setAttribute("data-full", full);
    root.querySelectorAll("[data-full]").forEach(function (el) {
      el.setAttribute("data-full", full);
    });
    (data.levels || []).forEach(function (level) {
      root.querySelectorAll("[data-level]").forEach(function (el) {
        if (el.getAttribute("data-level") !== level.name) return;
        setText(el, "[data-level-free]", level.free);
        el.setAttribute("data-zero", level.free ? "0" : "1");
      });
    });
    fillOverflow(root, data.overflow);
  }

  function applyDistrict(root, rows) {
    var free = 0;
    var total = 0;
    rows.forEach(function (row) {
      free += row.free;
      total += row.total;
      root.querySelectorAll('[data-car-park="' + row.car_park + '"]').forEach(function (el) {
        setText(el, "[data-free]", row.free);
        setText(el, "[data-total]", row.total);
        setText(el, "[data-occupancy]", row.occupancy_pct);
        el.setAttribute("data-full", row.full ? "1" : "0");
        el.classList.toggle("pk-full", !!row.full);
      });
    });
    root.querySelectorAll("[data-district-free]").forEach(function (el) {
      el.textContent = String(free);
    });
    root.querySelectorAll("[data-district-total]").forEach(function (el) {
      el.textContent = String(total);
    });
    root.querySelectorAll("[data-district-occupancy]").forEach(function (el) {
      el.textContent = String(total ? Math.round((100 * (total - free)) / total) : 0);
    });
  }

  function versionOf(data) {
    if (Array.isArray(data)) {
      return data.reduce(function (sum, row) { return sum + (row.version || 0); }, 0);
    }
    return data.version;
  }

  function follow(root) {
    if (!window.EventSource) return;
    var source = new EventSource(root.getAttribute("data-live-url"));
    function handle(apply) {
      return function (event) {
        var data;
        try { data = JSON.parse(event.data); } catch (e) { return; }
        apply(root, data);
        var version = String(versionOf(data));
        if (version !== root.getAttribute("data-version")) {
          root.setAttribute("data-version", version);
          root.setAttribute("data-updated", String(Date.now()));
          changed();
        }
      };
    }
    source.addEventListener("availability", handle(applyAvailability));
    source.addEventListener("district", handle(applyDistrict));
    window.addEventListener("pagehide", function () { source.close(); });
  }

  /* --- charts ------------------------------------------------------------------------------ */
  var PALETTE = ["#0f766e", "#f59e0b", "#6366f1", "#ef4444", "#10b981", "#8b5cf6"];

  function chartOptions(kind, d) {
    var grid = { left: 48, right: 16, top: 40, bottom: 32 };
    if (kind === "occupancy") {
      return {
        color: PALETTE, grid: grid, tooltip: { trigger: "axis" },
        legend: { top: 0 },
        xAxis: { type: "category", data: d.hours },
        yAxis: { type: "value", minInterval: 1 },
        series: [
          { name: d.occupancy.labels.avg, type: "line", smooth: true, areaStyle: { opacity: 0.15 }, data: d.occupancy.avg },
          { name: d.occupancy.labels.peak, type: "line", step: "middle", data: d.occupancy.peak }
        ]
      };
    }
    if (kind === "revenue") {
      return {
        color: PALETTE, grid: grid, tooltip: { trigger: "axis", valueFormatter: function (v) { return "¥" + Number(v).toFixed(2); } },
        legend: { top: 0 },
        xAxis: { type: "category", data: d.days },
        yAxis: { type: "value" },
        series: d.revenue.map(function (s) {
          return { name: s.name, type: "bar", stack: "revenue", data: s.data };
        })
      };
    }
    if (kind === "stays") {
      return {
        color: PALETTE, grid: grid, tooltip: { trigger: "axis" },
        xAxis: { type: "category", data: d.stays.labels },
        yAxis: { type: "value", minInterval: 1 },
        series: [{ name: d.stays.name, type: "bar", data: d.stays.data }]
      };
    }
    if (kind === "discounts") {
      return {
        color: PALETTE, tooltip: { trigger: "item" },
        title: d.discounts.length ? undefined : { text: d.empty, left: "center", top: "middle", textStyle: { fontSize: 14, color: "#64748b" } },
        legend: { bottom: 0 },
        series: [{ type: "pie", radius: ["35%", "65%"], data: d.discounts }]
      };
    }
    if (kind === "flow") {
      return {
        color: PALETTE, grid: grid, tooltip: { trigger: "axis" },
        legend: { top: 0 },
        xAxis: { type: "category", data: d.hours },
        yAxis: { type: "value", minInterval: 1 },
        series: [
          { name: d.flow.labels.entries, type: "bar", data: d.flow.entries },
          { name: d.flow.labels.exits, type: "bar", data: d.flow.exits }
        ]
      };
    }
    return null;
  }

  function drawCharts() {
    var script = document.getElementById("parking-charts");
    if (!script || !window.echarts) return;
    var data;
    try { data = JSON.parse(script.textContent); } catch (e) { return; }
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var options = chartOptions(el.getAttribute("data-chart"), data);
      if (!options) return;
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(options);
      el.setAttribute("data-drawn", "1");
      charts.push(chart);
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
  }

  function start() {
    document.querySelectorAll("[data-live-url]").forEach(follow);
    drawCharts();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
