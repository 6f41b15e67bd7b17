/* The POS pay form: show the cash and card fields for those methods, and the change while the
   cashier types what was handed over. Progressive only: the server checks everything. */
"use strict";
(function () {
  function fen(text) {
    var m = /^\s*[¥￥]?\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(text || "");
    if (!m) return null;
    return parseInt(m[1], 10) * 100 + (m[2] ? parseInt((m[2] + "0").slice(0, 2), 10) : 0);
  }
  function yuan(f) {
    return "¥" + Math.floor(f / 100).toLocaleString("en-US") + "." + String(f % 100).padStart(2, "0");
  }
  function methods(form) {
    var chosen = form.querySelector("input[name=method]:checked");
    var second = form.querySelector("select[name=method2]");
    return [chosen ? chosen.value : "", second ? second.value : ""];
  }
  function cashAmount(form) {
    var m = methods(form);
    var payable = parseInt(form.dataset.payable || "0", 10);
    var amount2 = fen((form.querySelector("input[name=amount2]") || {}).value);
    var amount = fen((form.querySelector("input[name=amount]") || {}).value);
    if (m[1] === "cash") return amount2;
    if (m[0] === "cash") return amount === null ? payable - (m[1] ? amount2 || 0 : 0) : amount;
    return null;
  }
  function update(form) {
    var m = methods(form);
    var cash = m.indexOf("cash") !== -1;
    var card = m.indexOf("bank_card") !== -1;
    form.querySelectorAll(".cash-only").forEach(function (el) { el.hidden = !cash; });
    form.querySelectorAll(".card-only").forEach(function (el) { el.hidden = !card; });
    var out = form.querySelector("[data-testid=change-live]");
    if (!out) return;
    var tendered = fen((form.querySelector("input[name=tendered]") || {}).value);
    var due = cashAmount(form);
    out.textContent = cash && tendered !== null && due !== null && tendered >= due
      ? (out.dataset.label || "") + yuan(tendered - due) : "";
  }
  function all() {
    document.querySelectorAll("form.pay-form").forEach(update);
  }
  document.addEventListener("input", function (e) {
    var form = e.target.closest && e.target.closest("form.pay-form");
    if (form) update(form);
  });
  document.addEventListener("change", function (e) {
    var form = e.target.closest && e.target.closest("form.pay-form");
    if (form) update(form);
  });
  document.addEventListener("DOMContentLoaded", all);
  document.addEventListener("htmx:afterSettle", all);
})();
