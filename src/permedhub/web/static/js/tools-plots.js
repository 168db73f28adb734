// Tool pages: draw the Plotly figures whose JSON the server embedded in
// <script type="application/json" id="figure-data-KEY"> blocks (CSP allows no inline script).
// WebGL traces (scattergl) become SVG scatter traces: the WebGL renderer compiles shaders with
// the Function constructor, which the page's Content-Security-Policy forbids.
(function () {
  "use strict";

  function svgOnly(trace) {
    if (trace.type === "scattergl") trace.type = "scatter";
    return trace;
  }

  function draw(target) {
    var source = document.getElementById(target.dataset.source);
    if (!source || !window.Plotly) return;
    var figure = JSON.parse(source.textContent);
    var layout = figure.layout || {};
    layout.autosize = true;
    window.Plotly.newPlot(target, (figure.data || []).map(svgOnly), layout, {
      responsive: true,
      displaylogo: false,
    });
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll(".js-tool-figure"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
