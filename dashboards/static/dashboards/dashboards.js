// Draws every chart of a dashboard with the Plotly that SSOps serves (no CDN, no inline script):
// <div data-chart="ID"> reads its figure from <script type="application/json" id="ID">.
// A "PNG" button (data-png) saves its chart as a PNG file, as the modebar's camera does.
// Fragments swapped in by htmx (the on-call page refreshing itself) are drawn the same way.
(function () {
  "use strict";

  function config(element) {
    return {
      responsive: true,
      displaylogo: false,
      modeBarButtonsToRemove: ["select2d", "lasso2d"],
      toImageButtonOptions: { format: "png", filename: element.dataset.filename, scale: 2 },
    };
  }

  function draw(root) {
    root.querySelectorAll("[data-chart]").forEach(function (element) {
      if (element.dataset.drawn) {
        return;
      }
      var source = document.getElementById(element.dataset.chart);
      var figure = JSON.parse(source.textContent);
      element.dataset.drawn = "pending";
      Plotly.newPlot(element, figure.data, figure.layout, config(element)).then(function () {
        element.dataset.drawn = "true";
      });
    });
  }

  function savePng(event) {
    var button = event.target.closest("[data-png]");
    if (!button) {
      return;
    }
    var element = document.getElementById(button.dataset.png);
    Plotly.downloadImage(element, {
      format: "png",
      filename: element.dataset.filename,
      width: element.clientWidth || 900,
      height: element.clientHeight || 300,
    });
  }

  document.addEventListener("click", savePng);
  document.addEventListener("DOMContentLoaded", function () {
    draw(document);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    draw(event.target);
  });
  // A refresh never pulls the page from under someone using it: while the keyboard focus is
  // inside the refreshing part (a Run button, an open log), the poll waits for the next turn.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var region = event.detail.elt;
    var focused = document.activeElement;
    if (region.hasAttribute("data-refresh") && focused !== region && region.contains(focused)) {
      event.preventDefault();
    }
  });
})();
