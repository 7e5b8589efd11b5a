// The operations page: fetches /ops/data.json every few seconds and draws it as SVG.
// No library and no inline script, so it runs under a Content-Security-Policy without 'unsafe-inline'.
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var WIDTH = 480, HEIGHT = 200, PAD = { left: 64, right: 12, top: 12, bottom: 30 };

  function svgNode(name, attributes, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attributes || {}).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    if (parent) parent.appendChild(node);
    return node;
  }

  function text(parent, x, y, content, className) {
    var node = svgNode("text", { x: x, y: y, "class": className || "axis-label" }, parent);
    node.textContent = content;
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function prepare(svg, width, height) {
    clear(svg);
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    return svg;
  }

  // --- Formatting ---------------------------------------------------------------

  function formatBytes(bytes) {
    if (bytes === null || bytes === undefined) return "–";
    var units = ["B", "KiB", "MiB", "GiB"], index = 0;
    while (bytes >= 1024 && index < units.length - 1) { bytes /= 1024; index += 1; }
    return (index ? Number(bytes.toFixed(1)) : Math.round(bytes)) + " " + units[index];
  }
  function formatRate(rate) { return rate === null || rate === undefined ? "–" : (rate * 100).toFixed(1) + " %"; }
  function formatNumber(value) {
    if (value === null || value === undefined) return "–";
    return Math.abs(value) >= 100 || Number.isInteger(value) ? Math.round(value).toLocaleString() : value.toFixed(2);
  }
  function formatSeconds(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    if (seconds === Infinity) return "more";
    if (seconds >= 1) return seconds.toFixed(1) + " s";
    var ms = seconds * 1000;
    return (ms >= 10 ? Math.round(ms) : Number(ms.toPrecision(2))) + " ms";
  }
  function formatClock(epochSeconds) {
    var date = new Date(epochSeconds * 1000);
    return date.toISOString().substring(11, 19);
  }

  // The upper bound of the bucket holding the given share of the observations.
  function percentile(histogram, bounds, share) {
    if (!histogram || !histogram.count) return null;
    var wanted = histogram.count * share, running = 0;
    for (var index = 0; index < histogram.buckets.length; index += 1) {
      running += histogram.buckets[index];
      if (running >= wanted) return index < bounds.length ? bounds[index] : Infinity;
    }
    return null;
  }

  function sumOf(object) {
    return Object.keys(object || {}).reduce(function (total, key) { return total + object[key]; }, 0);
  }

  // --- Charts -------------------------------------------------------------------

  function niceMaximum(value) {
    if (!(value > 0)) return 1;
    var magnitude = Math.pow(10, Math.floor(Math.log10(value)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var index = 0; index < steps.length; index += 1) {
      if (steps[index] * magnitude >= value) return steps[index] * magnitude;
    }
    return 10 * magnitude;
  }

  // Byte axes step in KiB/MiB/GiB, so that the ticks read as round numbers.
  function niceByteMaximum(value) {
    var unit = 1;
    while (value >= 1024 * unit && unit < Math.pow(1024, 3)) unit *= 1024;
    return niceMaximum(value / unit) * unit;
  }

  function drawAxes(svg, maximum, formatY) {
    var plotHeight = HEIGHT - PAD.top - PAD.bottom;
    for (var tick = 0; tick <= 4; tick += 1) {
      var y = PAD.top + plotHeight - (plotHeight * tick) / 4;
      svgNode("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y, y2: y, "class": "grid" }, svg);
      text(svg, PAD.left - 6, y + 4, formatY((maximum * tick) / 4), "axis-label y-label");
    }
  }

  function drawEmpty(svg, message) {
    text(svg, WIDTH / 2, HEIGHT / 2, message, "empty-label");
  }

  // series: [{name, className, points: [[t, value], ...]}]
  function lineChart(svg, series, formatY, fixedMaximum, scale) {
    prepare(svg, WIDTH, HEIGHT);
    var all = [];
    series.forEach(function (line) { line.points.forEach(function (point) { if (point[1] !== null) all.push(point); }); });
    if (all.length < 2) {
      drawAxes(svg, fixedMaximum || 1, formatY);
      drawEmpty(svg, "Waiting for a second sample…");
      return;
    }
    var times = all.map(function (point) { return point[0]; });
    var tMin = Math.min.apply(null, times), tMax = Math.max.apply(null, times);
    if (tMax === tMin) tMax = tMin + 1;
    var largest = Math.max.apply(null, all.map(function (point) { return point[1]; }));
    var maximum = fixedMaximum || (scale || niceMaximum)(largest);
    drawAxes(svg, maximum, formatY);
    var plotWidth = WIDTH - PAD.left - PAD.right, plotHeight = HEIGHT - PAD.top - PAD.bottom;
    function x(t) { return PAD.left + ((t - tMin) / (tMax - tMin)) * plotWidth; }
    function y(value) { return PAD.top + plotHeight - (Math.min(value, maximum) / maximum) * plotHeight; }
    text(svg, PAD.left, HEIGHT - 8, formatClock(tMin), "axis-label x-label-start");
    text(svg, WIDTH - PAD.right, HEIGHT - 8, formatClock(tMax), "axis-label x-label-end");
    series.forEach(function (line, index) {
      var d = "", pen = "M";
      line.points.forEach(function (point) {
        if (point[1] === null) { pen = "M"; return; }
        d += pen + x(point[0]).toFixed(1) + "," + y(point[1]).toFixed(1) + " ";
        pen = "L";
      });
      if (d) svgNode("path", { d: d.trim(), "class": "series " + (line.className || "series-" + index) }, svg);
    });
  }

  // A legend under a chart with several series: a sample of each line (colour and dash) and
  // its whole name, in HTML so that long instance names wrap instead of being cut.
  function legend(svg, series) {
    var list = document.getElementById(svg.id + "-legend");
    if (!list) return;
    clear(list);
    if (series.length < 2) return;
    series.forEach(function (line, index) {
      var item = document.createElement("li");
      var sample = svgNode("svg", { viewBox: "0 0 24 8", width: 24, height: 8, "aria-hidden": "true", "class": "legend-sample" });
      svgNode("path", { d: "M0 4 H24", "class": "series " + (line.className || "series-" + index) }, sample);
      item.appendChild(sample);
      item.appendChild(document.createTextNode(" " + line.name));
      item.setAttribute("data-series", line.name);
      list.appendChild(item);
    });
  }

  function chartWithLegend(svg, series, formatY, fixedMaximum, scale) {
    lineChart(svg, series, formatY, fixedMaximum, scale);
    legend(svg, series);
  }

  function latencyChart(svg, figures) {
    prepare(svg, WIDTH, HEIGHT);
    var bounds = figures.latency_bucket_bounds || [];
    var operations = ["load", "save"];
    var labels = bounds.map(function (bound) { return formatSeconds(bound); }).concat(["more"]);
    var counts = operations.map(function (operation) {
      var histogram = figures.latency[operation];
      return histogram && histogram.buckets.length ? histogram.buckets : labels.map(function () { return 0; });
    });
    var maximum = niceMaximum(Math.max.apply(null, [].concat.apply([], counts)));
    drawAxes(svg, maximum, formatNumber);
    var plotWidth = WIDTH - PAD.left - PAD.right, plotHeight = HEIGHT - PAD.top - PAD.bottom;
    var slot = plotWidth / labels.length, bar = (slot - 4) / operations.length;
    labels.forEach(function (label, bucket) {
      operations.forEach(function (operation, which) {
        var count = counts[which][bucket] || 0;
        var height = (count / maximum) * plotHeight;
        var x = PAD.left + bucket * slot + 2 + which * bar;
        svgNode("rect", {
          x: x.toFixed(1), y: (PAD.top + plotHeight - height).toFixed(1),
          width: Math.max(bar - 1, 1).toFixed(1), height: height.toFixed(1),
          "class": "bar series-" + operation,
        }, svg).appendChild(document.createElementNS(SVG, "title")).textContent = operation + " ≤ " + label + ": " + count;
      });
      if (bucket % 2 === 0) text(svg, PAD.left + bucket * slot + slot / 2, HEIGHT - 8, label, "axis-label x-label");
    });
    operations.forEach(function (operation, which) {
      var legendX = WIDTH - PAD.right - 130 + which * 65;
      svgNode("rect", { x: legendX, y: PAD.top + 2, width: 10, height: 10, "class": "swatch series-" + operation }, svg);
      text(svg, legendX + 14, PAD.top + 11, operation, "legend");
    });
    if (!sumOf(counts[0]) && !sumOf(counts[1])) drawEmpty(svg, "No session loads or saves yet");
  }

  function sparkline(series) {
    var svg = svgNode("svg", { "class": "sparkline", viewBox: "0 0 120 28", preserveAspectRatio: "none" });
    var points = series.map(function (point) { return point.requests_per_sec; });
    if (points.length < 2) return svg;
    var maximum = niceMaximum(Math.max.apply(null, points));
    var d = points.map(function (value, index) {
      return (index ? "L" : "M") + ((index / (points.length - 1)) * 118 + 1).toFixed(1) + "," + (27 - (value / maximum) * 25).toFixed(1);
    }).join(" ");
    svgNode("path", { d: d, "class": "series series-requests" }, svg);
    return svg;
  }

  // --- Tiles and table ----------------------------------------------------------

  function tiles(container, entries) {
    clear(container);
    entries.forEach(function (entry) {
      var tile = document.createElement("div");
      tile.className = "ops-tile" + (entry[2] ? " " + entry[2] : "");
      var value = document.createElement("strong");
      value.textContent = entry[1];
      var label = document.createElement("span");
      label.textContent = entry[0];
      tile.appendChild(value);
      tile.appendChild(label);
      container.appendChild(tile);
    });
  }

  function siteTiles(data) {
    var figures = data.site.figures, events = figures.events, errors = sumOf(figures.redis_errors);
    var last = data.site.series[data.site.series.length - 1];
    var entries = [
      ["instances", String(data.site.instances)],
      ["workers", String(data.site.workers)],
      ["requests", formatNumber(figures.requests.total)],
      ["requests/s", last ? formatNumber(last.requests_per_sec) : "–"],
      ["session hit rate", formatRate(figures.hit_rate)],
      ["loads", formatNumber(events.load)],
      ["saves", formatNumber(events.save)],
      ["creations", formatNumber(events.create)],
      ["creations/s", last ? formatNumber(last.creations_per_sec) : "–"],
    ];
    if ("creation_refused" in events) {
      entries.push(["creations refused", formatNumber(events.creation_refused), events.creation_refused ? "warn" : ""]);
    }
    tiles(document.getElementById("site-tiles"), entries.concat([
      ["deletions", formatNumber(events.delete)],
      ["expiries", formatNumber(events.expired)],
      ["grace recoveries", formatNumber(events.grace_recovery)],
      ["conflicts", formatNumber(events.conflict), events.conflict ? "warn" : ""],
      ["corrupt", formatNumber(events.corrupt), events.corrupt ? "bad" : ""],
      ["Redis errors", formatNumber(errors), errors ? "bad" : ""],
      ["5xx", formatNumber(figures.requests.server_errors), figures.requests.server_errors ? "bad" : ""],
      ["bytes/session", formatBytes(figures.bytes_per_session)],
      ["compression", figures.compression_ratio.toFixed(2) + "×"],
    ]));
  }

  function redisTiles(redis) {
    var container = document.getElementById("redis-tiles");
    if (redis.error) { tiles(container, [["Redis", redis.error, "bad"]]); return; }
    tiles(container, [
      ["used memory", formatBytes(redis.used_memory)],
      ["memory limit", redis.maxmemory ? formatBytes(redis.maxmemory) : "none"],
      ["keyspace hit rate", formatRate(redis.keyspace_hit_rate)],
      ["evicted keys", formatNumber(redis.evicted_keys), redis.evicted_keys ? "warn" : ""],
      ["connected clients", formatNumber(redis.connected_clients)],
      ["ops/s", formatNumber(redis.instantaneous_ops_per_sec)],
    ]);
  }

  // ``label`` names the column on a phone, where each row is shown as a card.
  function cell(row, content, className, label) {
    var td = document.createElement("td");
    if (className) td.className = className;
    if (label) td.setAttribute("data-label", label);
    if (content instanceof Node) td.appendChild(content); else td.textContent = content;
    row.appendChild(td);
  }

  function figureCells(row, entry, generatedAt) {
    var figures = entry.figures, bounds = figures.latency_bucket_bounds;
    var last = entry.series[entry.series.length - 1];
    // "key" cells are the ones a worker's row keeps on a phone, where every figure would make it too long.
    cell(row, formatNumber(figures.requests.total), "num key", "Requests");
    cell(row, last ? formatNumber(last.requests_per_sec) : "–", "num key", "Req/s");
    cell(row, formatRate(figures.hit_rate), "num key", "Hit rate");
    cell(row, formatNumber(figures.events.load), "num", "Loads");
    cell(row, formatNumber(figures.events.save), "num", "Saves");
    cell(row, formatNumber(figures.events.conflict), "num", "Conflicts");
    cell(row, formatNumber(sumOf(figures.redis_errors)), "num", "Redis errors");
    ["load", "save"].forEach(function (operation) {
      var histogram = figures.latency[operation];
      cell(row, formatSeconds(percentile(histogram, bounds, 0.5)) + " / " + formatSeconds(percentile(histogram, bounds, 0.95)),
        "num", (operation === "load" ? "Load" : "Save") + " p50 / p95");
    });
    cell(row, formatBytes(figures.bytes_per_session), "num", "Bytes/session");
    cell(row, Math.max(0, Math.round(generatedAt - entry.published_at)) + " s ago", "num key", "Published");
    cell(row, sparkline(entry.series), "spark", "Requests over time");
  }

  function instanceRows(data) {
    var body = document.querySelector("#instances tbody");
    clear(body);
    data.instances.forEach(function (instance, index) {
      var row = document.createElement("tr");
      row.className = "instance" + (instance.current ? " current" : "");
      row.setAttribute("data-instance", instance.name);
      var name = document.createElement("span");
      name.className = "instance-name";
      var swatch = svgNode("svg", { viewBox: "0 0 24 8", width: 24, height: 8, "aria-hidden": "true", "class": "legend-sample" });
      svgNode("path", { d: "M0 4 H24", "class": "series series-" + (index % SERIES_STYLES) }, swatch);
      name.appendChild(swatch);
      name.appendChild(document.createTextNode(" " + instance.name + (instance.current ? " (this page)" : "")));
      var workers = document.createElement("span");
      workers.className = "worker-count";
      workers.textContent = instance.workers.length + " worker" + (instance.workers.length === 1 ? "" : "s");
      var heading = document.createElement("div");
      heading.appendChild(name);
      heading.appendChild(workers);
      cell(row, heading, "instance-cell");
      figureCells(row, instance, data.generated_at);
      body.appendChild(row);
      instance.workers.forEach(function (worker) {
        var line = document.createElement("tr");
        line.className = "worker" + (worker.current ? " current" : "");
        line.setAttribute("data-worker", worker.name);
        line.setAttribute("data-instance-of", instance.name);
        cell(line, "worker pid " + worker.pid + (worker.current ? " (this page)" : ""), "worker-cell");
        figureCells(line, worker, data.generated_at);
        body.appendChild(line);
      });
    });
  }

  // Each instance's line gets its own colour and dash pattern (ops.css); past six they repeat.
  var SERIES_STYLES = 6;

  function render(data) {
    siteTiles(data);
    redisTiles(data.redis);
    latencyChart(document.getElementById("chart-latency"), data.site.figures);
    var series = data.site.series;
    var pick = function (name) { return function (p) { return [p.t, p[name]]; }; };
    chartWithLegend(document.getElementById("chart-hit-rate"), [
      { name: "hit rate", className: "series-hit", points: series.map(pick("hit_rate")) },
    ], formatRate, 1);
    chartWithLegend(document.getElementById("chart-requests"),
      [{ name: "whole site", className: "series-site", points: series.map(pick("requests_per_sec")) }]
        .concat(data.instances.map(function (instance, index) {
          return { name: instance.name, className: "series-" + (index % SERIES_STYLES), points: instance.series.map(pick("requests_per_sec")) };
        })),
      formatNumber);
    var creations = [{ name: "sessions created", className: "series-site", points: series.map(pick("creations_per_sec")) }];
    if ("creation_refused" in data.site.figures.events) {
      creations.push({ name: "creations refused", className: "series-refused", points: series.map(pick("creations_refused_per_sec")) });
    }
    chartWithLegend(document.getElementById("chart-creations"), creations, formatNumber);
    chartWithLegend(document.getElementById("chart-memory"), [
      { name: "used memory", className: "series-memory", points: series.map(pick("used_memory")) },
    ], formatBytes, null, niceByteMaximum);
    instanceRows(data);
  }

  // --- Refresh loop -------------------------------------------------------------

  function start() {
    var root = document.getElementById("ops");
    if (!root) return;
    var source = root.getAttribute("data-source");
    var seconds = Math.max(1, Number(root.getAttribute("data-refresh-seconds")) || 5);
    var status = document.getElementById("ops-status");

    function refresh() {
      fetch(source, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
        .then(function (response) {
          return response.json().then(function (body) {
            if (!response.ok) throw new Error(body.error || "The server answered " + response.status + ".");
            return body;
          });
        })
        .then(function (data) {
          render(data);
          root.setAttribute("data-rendered-at", String(data.generated_at));
          status.textContent = "Updated " + formatClock(data.generated_at) + " UTC by " + data.served_by + ".";
          status.className = "ops-status";
        })
        .catch(function (error) {
          status.textContent = "Refresh failed: " + error.message + " Retrying.";
          status.className = "ops-status bad";
        })
        .then(function () { window.setTimeout(refresh, seconds * 1000); });
    }
    refresh();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
