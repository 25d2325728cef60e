// Draw every chart of the page: <div data-chart="ID"> reads its figure from <script id="ID">.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-chart]").forEach(function (element) {
    var figure = JSON.parse(document.getElementById(element.dataset.chart).textContent);
    Plotly.newPlot(element, figure.data, figure.layout, { responsive: true, displaylogo: false });
  });
});
