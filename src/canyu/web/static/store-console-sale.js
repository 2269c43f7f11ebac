// Moved out of the page: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var root = document.querySelector("[data-console-sale]");
  if (!root) return;
  // The same geometry as the server-drawn curve (640 x 220, 36 px margin).
  function redraw(curve, top) {
    var svg = root.querySelector("[data-curve]");
    if (!svg || !curve.length) return;
    var line = svg.querySelector("polyline"), area = svg.querySelector("polygon");
    if (!line || !area) { location.reload(); return; }
    var W = 640, H = 220, P = 36, span = curve[curve.length - 1][0] || 1;
    var points = curve.map(function (c) {
      return (P + (W - 8 - P) * c[0] / span).toFixed(1) + "," + (H - P - (H - P - 8) * c[1] / top).toFixed(1);
    }).join(" ");
    line.setAttribute("points", points);
    area.setAttribute("points", P + "," + (H - P) + " " + points + " " + (W - 8) + "," + (H - P));
    var label = svg.querySelector("[data-span]");
    if (label) label.textContent = span.toFixed(1) + " s";
  }
  setInterval(function () {
    fetch("/api/v1/sales/" + root.getAttribute("data-console-sale") + "/stats", {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (stats) {
        if (!stats) return;
        var values = {units_left: stats.sale.units_left, fcode_units_left: stats.sale.fcode_units_left, entrants: stats.sale.entrants,
          queue_length: stats.sale.queue_length, admitted_upto: stats.sale.admitted_upto, paid_units: stats.paid_units, reserved_units: stats.reserved_units};
        for (var name in values) {
          var node = root.querySelector('[data-stat="' + name + '"]');
          if (node) node.textContent = Number(values[name]).toLocaleString();
        }
        redraw(stats.curve, stats.sale.stock);
      })
      .catch(function () {});
  }, 2000);
})();
