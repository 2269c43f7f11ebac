// Moved out of the page: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var root = document.querySelector("[data-sale]");
  if (!root) return;
  var text = JSON.parse(document.getElementById("st-text").textContent);
  var phase = root.getAttribute("data-phase");
  var position = root.getAttribute("data-position");
  function pad(n) { return n < 10 ? "0" + n : "" + n; }
  function tick() {
    var nodes = document.querySelectorAll("[data-countdown]");
    for (var i = 0; i < nodes.length; i++) {
      var left = Math.round((new Date(nodes[i].getAttribute("data-countdown")) - Date.now()) / 1000);
      if (left <= 0) { nodes[i].textContent = text.now; setTimeout(function () { location.reload(); }, 800); continue; }
      var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
      nodes[i].textContent = (d ? d + text.days + " " : "") + pad(h) + ":" + pad(m) + ":" + pad(s);
    }
  }
  tick();
  setInterval(tick, 1000);
  function set(selector, value) {
    var node = document.querySelector(selector);
    if (node && value !== null && value !== undefined) node.textContent = Number(value).toLocaleString();
  }
  function poll() {
    fetch("/api/v1/sales/" + root.getAttribute("data-sale"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (sale) {
        if (!sale) return;
        set("[data-units-left]", sale.units_left);
        set("[data-entrants]", sale.entrants);
        set("[data-queue-length]", sale.queue_length);
        var meter = document.querySelector("[data-meter]");
        if (meter && sale.stock) meter.style.width = (100 * sale.units_left / (sale.stock - sale.fcode_stock)) + "%";
        var you = sale.you || {};
        var myTurnNow = sale.phase === "open" && you.position && you.ahead === 0 &&
          !document.querySelector("[data-buy]") && !document.querySelector("#checkout");
        if (sale.phase !== phase || String(you.position || "") !== position || myTurnNow) location.reload();
      })
      .catch(function () {});
  }
  setInterval(poll, 3000);
  if (location.search.indexOf("reserved=") >= 0 && !document.querySelector("#checkout")) setTimeout(function () { location.replace(location.pathname + "#checkout"); }, 1200);
})();
