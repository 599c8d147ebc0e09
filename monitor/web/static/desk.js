/* monitor dashboard: draws every .chart[data-series] with uPlot from the JSON the server
   computes (matches per day; spikes marked with circles). No inline script: the page's
   Content-Security-Policy allows scripts from /static only. */
(function () {
  "use strict";
  var PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"];
  var MAX_SERIES = 10;

  function spikePlugin(data) {
    return {
      hooks: {
        draw: [function (u) {
          var ctx = u.ctx;
          var r = 5 * devicePixelRatio;
          ctx.save();
          data.series.slice(0, MAX_SERIES).forEach(function (s, i) {
            if (!u.series[i + 1].show) return;
            s.spikes.forEach(function (spike) {
              var x = u.valToPos(data.t[spike.index], "x", true);
              var y = u.valToPos(spike.count, "y", true);
              ctx.beginPath();
              ctx.arc(x, y, r, 0, 2 * Math.PI);
              ctx.lineWidth = 2 * devicePixelRatio;
              ctx.strokeStyle = PALETTE[i % PALETTE.length];
              ctx.fillStyle = "#fff";
              ctx.fill();
              ctx.stroke();
            });
          });
          ctx.restore();
        }]
      }
    };
  }

  function draw(el, data) {
    var shown = data.series.slice(0, MAX_SERIES);
    var spark = el.classList.contains("spark");
    var height = parseInt(el.getAttribute("data-height") || "240", 10);
    var opts = {
      width: Math.max(200, el.clientWidth),
      height: height,
      plugins: [spikePlugin(data)],
      legend: { show: !spark },
      cursor: { show: !spark },
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(1, max)]; } } },
      axes: spark ? [{ show: false }, { show: false }] : [{}, { label: "matches per day", size: 50 }],
      series: [{}].concat(shown.map(function (s, i) {
        return {
          label: s.label + " (" + s.total + ")",
          stroke: PALETTE[i % PALETTE.length],
          width: 1.5,
          points: { show: false }
        };
      }))
    };
    var rows = [data.t].concat(shown.map(function (s) { return s.counts; }));
    var plot = new uPlot(opts, rows, el);
    var total = shown.reduce(function (n, s) { return n + s.total; }, 0);
    el.setAttribute("data-total", String(total));
    el.setAttribute("data-spikes", String(shown.reduce(function (n, s) { return n + s.spikes.length; }, 0)));
    el.setAttribute("data-drawn", "1");
    window.addEventListener("resize", function () {
      plot.setSize({ width: Math.max(200, el.clientWidth), height: height });
    });
  }

  function load(el) {
    fetch(el.getAttribute("data-series"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (data) {
        if (!data.series.length) {
          el.textContent = "No matches in this period.";
          el.setAttribute("data-drawn", "empty");
          return;
        }
        draw(el, data);
      })
      .catch(function (err) {
        el.textContent = "The chart could not be loaded: " + err.message;
        el.setAttribute("data-drawn", "error");
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".chart[data-series]").forEach(load);
  });
})();
