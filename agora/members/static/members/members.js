/* Member pages: the countdown beside the live member code (progressive enhancement only;
   HTMX fetches the next code when this one expires). */
"use strict";
(function () {
  function tick() {
    var boxes = document.querySelectorAll(".member-code[data-expires-at]");
    for (var i = 0; i < boxes.length; i++) {
      var box = boxes[i];
      var out = box.querySelector(".countdown");
      var at = Date.parse(box.getAttribute("data-expires-at"));
      if (!out || isNaN(at)) continue;
      var left = Math.max(0, Math.ceil((at - Date.now()) / 1000));
      out.textContent = String(left);
    }
  }
  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);
})();
