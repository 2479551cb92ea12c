/* Interactive parts of the optimizer reports (inlined into report.html):
   the Leaflet map (drawn from the JSON in #map-data, no tile layer: the page works
   offline) and sortable / filterable tables. */
(function () {
  "use strict";

  var COVERAGE_BREAKS = [0.2, 0.4, 0.6, 0.8];
  var COVERAGE_COLORS = ["#d7191c", "#fdae61", "#fee08b", "#a6d96a", "#1a9641"];
  var NO_DATA = "#cccccc";

  function esc(s) {
    return String(s === null || s === undefined ? "" : s)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }
  function num(x, digits) {
    if (x === null || x === undefined || isNaN(x)) return "–";
    return Number(x).toLocaleString("en-US", { maximumFractionDigits: digits === undefined ? 0 : digits });
  }
  function pct(x) {
    if (x === null || x === undefined || isNaN(x)) return "–";
    return (100 * x).toFixed(1) + "%";
  }
  function coverageColor(x) {
    if (x === null || x === undefined || isNaN(x)) return NO_DATA;
    for (var k = 0; k < COVERAGE_BREAKS.length; k++) {
      if (x < COVERAGE_BREAKS[k]) return COVERAGE_COLORS[k];
    }
    return COVERAGE_COLORS[COVERAGE_COLORS.length - 1];
  }

  function regionLayer(geojson, when) {
    var field = "covered_share_" + when;
    return L.geoJSON(geojson, {
      style: function (f) {
        return { color: "#555", weight: 1, fillOpacity: 0.6, fillColor: coverageColor(f.properties[field]) };
      },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        var html = "<b>" + esc(p.name || p.region) + "</b> (" + esc(p.region) + ")<br>" +
          "population " + num(p.population) + "<br>" +
          "covered before " + pct(p.covered_share_before) + ", after " + pct(p.covered_share_after) + "<br>" +
          "units before " + num(p.units_before) + ", after " + num(p.units_after);
        if (p.floor !== null && p.floor !== undefined) html += "<br>floor " + pct(p.floor);
        layer.bindTooltip(html, { sticky: true });
      }
    });
  }

  function demandLayer(points, index, renderer) {
    var group = L.layerGroup();
    var maxPop = 1;
    points.forEach(function (p) { if (p[2] > maxPop) maxPop = p[2]; });
    points.forEach(function (p) {
      L.circleMarker([p[1], p[0]], {
        renderer: renderer, radius: 2 + 6 * Math.sqrt(p[2] / maxPop), weight: 0.5,
        color: "#333", fillOpacity: 0.8, fillColor: coverageColor(p[index])
      }).bindTooltip("population " + num(p[2]) + ", covered " + pct(p[index])).addTo(group);
    });
    return group;
  }

  function unitTooltip(u, label) {
    var lines = ["<b>" + esc(u.id) + "</b> — " + esc(label)];
    if (u.name) lines.push(esc(u.name));
    var where = [u.service, u.region].filter(function (v) { return v !== null && v !== undefined && v !== ""; });
    if (where.length) lines.push(esc(where.join(" · ")));
    if (u.score !== undefined) lines.push("score " + num(u.score, 3) + (u.rank !== undefined && u.rank !== null ? " (rank " + num(u.rank) + ")" : ""));
    if (u.cost !== undefined) lines.push("cost " + num(u.cost));
    if (u.marginal_coverage !== undefined) lines.push("marginal coverage " + num(u.marginal_coverage));
    if (u.utilisation !== undefined && u.utilisation !== null) lines.push("load " + num(u.load) + " of capacity " + num(u.capacity) + " (" + num(100 * u.utilisation, 0) + " % used)");
    if (u.reason) lines.push("<i>" + esc(u.reason) + "</i>");
    return lines.join("<br>");
  }

  function legendControl(data, hasRegions) {
    var legend = L.control({ position: "bottomright" });
    legend.onAdd = function () {
      var div = L.DomUtil.create("div", "legend");
      var html = '<div class="title">' + (hasRegions ? "Population covered" : "Settlement covered") + "</div>";
      var lo = 0;
      for (var k = 0; k < COVERAGE_COLORS.length; k++) {
        var hi = k < COVERAGE_BREAKS.length ? COVERAGE_BREAKS[k] : 1;
        html += '<i style="background:' + COVERAGE_COLORS[k] + '"></i>' + Math.round(lo * 100) + "–" + Math.round(hi * 100) + "%<br>";
        lo = hi;
      }
      html += '<div class="title">Units</div>';
      data.statuses.forEach(function (s) {
        html += '<i class="dot" style="background:' + data.colors[s] + '"></i>' + esc(data.labels[s]) + "<br>";
      });
      div.innerHTML = html;
      return div;
    };
    return legend;
  }

  function buildMap() {
    var el = document.getElementById("map");
    var src = document.getElementById("map-data");
    if (!el || !src) return;
    var data = JSON.parse(src.textContent);
    var map = L.map(el, { zoomSnap: 0.25, preferCanvas: false });
    map.attributionControl.setPrefix("Leaflet");
    var canvas = L.canvas({ padding: 0.5 });
    var bounds = L.latLngBounds([]);
    var baseLayers = {};
    var overlays = {};
    var hasRegions = !!(data.regions && data.regions.features && data.regions.features.length);
    if (hasRegions) {
      baseLayers["Coverage before (current contracts)"] = regionLayer(data.regions, "before");
      baseLayers["Coverage after (selected)"] = regionLayer(data.regions, "after");
      bounds.extend(baseLayers["Coverage after (selected)"].getBounds());
      if (data.demand.points.length) overlays["Settlements covered after"] = demandLayer(data.demand.points, 4, canvas);
    } else if (data.demand.points.length) {
      baseLayers["Settlements covered before"] = demandLayer(data.demand.points, 3, canvas);
      baseLayers["Settlements covered after"] = demandLayer(data.demand.points, 4, canvas);
      data.demand.points.forEach(function (p) { bounds.extend([p[1], p[0]]); });
    }
    var afterName = Object.keys(baseLayers).filter(function (n) { return n.indexOf("after") >= 0; })[0];
    if (afterName) baseLayers[afterName].addTo(map);

    map.createPane("units");
    map.getPane("units").style.zIndex = 450;  /* above regions and settlements (400) */
    var groups = {};
    var big = data.units.length > 400 ? 0.65 : 1;
    data.draw_order.forEach(function (s) { groups[s] = L.layerGroup(); });
    data.units.forEach(function (u) {
      /* utilisation as a ring: thicker with the load, dark red when full */
      var use = (u.utilisation === undefined || u.utilisation === null || u.status === "candidate") ? null : u.utilisation;
      var m = L.circleMarker([u.lat, u.lon], {
        pane: "units", radius: big * (u.status === "candidate" ? 4 : 6) + (use === null ? 0 : 2 * use),
        weight: use === null ? 1 : 1 + 3 * Math.min(use, 1), color: use !== null && use >= 0.999 ? "#8b0000" : "#222",
        fillColor: data.colors[u.status], fillOpacity: u.status === "candidate" ? 0.6 : 0.95,
        className: "unit-marker unit-" + u.status
      });
      m.bindTooltip(unitTooltip(u, data.labels[u.status]));
      m.addTo(groups[u.status]);
      bounds.extend([u.lat, u.lon]);
    });
    data.draw_order.forEach(function (s) {
      var n = groups[s].getLayers().length;
      if (n) {
        groups[s].addTo(map);
        overlays[data.labels[s] + " (" + n + ")"] = groups[s];
      }
    });
    L.control.layers(baseLayers, overlays, { collapsed: false }).addTo(map);
    legendControl(data, hasRegions).addTo(map);
    L.control.scale({ imperial: false }).addTo(map);
    if (bounds.isValid()) map.fitBounds(bounds.pad(0.03)); else map.setView([0, 0], 2);
    el.setAttribute("data-ready", "1");
  }

  function cellValue(td) {
    var v = td.getAttribute("data-v");
    if (v !== null && v !== "") { var f = parseFloat(v); if (!isNaN(f)) return f; }
    return td.textContent.trim().toLowerCase();
  }

  function makeSortable(table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, col) {
      th.title = "click to sort";
      th.addEventListener("click", function () {
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var dir = th.getAttribute("data-dir") === "asc" ? -1 : 1;
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("data-dir"); });
        th.setAttribute("data-dir", dir === 1 ? "asc" : "desc");
        rows.sort(function (a, b) {
          var x = cellValue(a.cells[col]), y = cellValue(b.cells[col]);
          if (typeof x === "number" && typeof y === "number") return dir * (x - y);
          return dir * String(x).localeCompare(String(y));
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }

  function makeFilter(input) {
    var table = document.getElementById(input.getAttribute("data-table"));
    if (!table) return;
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
        r.style.display = !q || r.textContent.toLowerCase().indexOf(q) >= 0 ? "" : "none";
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("table.data"), makeSortable);
    Array.prototype.forEach.call(document.querySelectorAll("input.filter"), makeFilter);
    if (typeof L !== "undefined") buildMap();
  });
})();
