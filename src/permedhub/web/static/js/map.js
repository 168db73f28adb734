// A choropleth of participations per country, drawn from the vendored world-atlas outlines.
// Country names are data: they reach the page only through textContent.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var SHADES = ["#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c"];
  var DECLARED = "#e8e1f5";
  var PLACE = "#d95f02";  // sub-national regions: a colour apart from the country shades
  var MEMBER = "#f4ecd3";  // a region map's member countries with nothing recorded yet
  var WIDTH = 960, HEIGHT = 480;
  var amount = window.permedhubAmount;
  // Named views as [west, south, east, north] in degrees: the home map opens on Europe, where
  // most partners are, and its buttons reach the other regions of the family.
  var VIEWS = {
    world: null,
    europe: [-25, 34, 45, 71],
    "latin-america": [-118, -56, -34, 33],
    africa: [-26, -36, 58, 38],
    asia: [60, -11, 150, 55],
  };

  // A box's outline sampled every 5 degrees: curved projections bend its edges.
  function boxOutline(box) {
    var points = [], step = 5, x, y;
    for (x = box[0]; x <= box[2]; x += step) { points.push([x, box[1]], [x, box[3]]); }
    for (y = box[1]; y <= box[3]; y += step) { points.push([box[0], y], [box[2], y]); }
    return { type: "MultiPoint", coordinates: points };
  }

  // The largest ring of each country: fitting to France or Norway must not reach French Guiana
  // or Svalbard.
  function mainland(feature) {
    var geometry = feature.geometry;
    if (!geometry || geometry.type !== "MultiPolygon") return feature;
    var best = null, bestArea = -1;
    geometry.coordinates.forEach(function (polygon) {
      var area = d3.geoArea({ type: "Polygon", coordinates: polygon });
      if (area > bestArea) { bestArea = area; best = polygon; }
    });
    return { type: "Feature", geometry: { type: "Polygon", coordinates: best } };
  }

  function projectionFor(view, land, focus) {
    var extent = [[4, 4], [WIDTH - 4, HEIGHT - 4]];
    var projection = d3.geoNaturalEarth1();
    if (view === "focus" && focus && focus.length) {
      var wanted = {};
      focus.forEach(function (numeric) { wanted[numeric] = true; });
      var shapes = land.features.filter(function (f) { return wanted[f.id]; }).map(mainland);
      if (shapes.length) {
        return projection.fitExtent([[24, 24], [WIDTH - 24, HEIGHT - 24]],
                                    { type: "FeatureCollection", features: shapes });
      }
    }
    var box = VIEWS[view];
    return box ? projection.fitExtent(extent, boxOutline(box))
               : projection.fitExtent(extent, { type: "Sphere" });
  }

  function shade(value, max) {
    if (!value) return null;
    var step = Math.ceil(SHADES.length * Math.log(1 + value) / Math.log(1 + max));
    return SHADES[Math.min(SHADES.length, Math.max(1, step)) - 1];
  }

  function el(name, attributes) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attributes || {}).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    return node;
  }

  function swatchItem(list, colour, text, className) {
    var item = document.createElement("li");
    var swatch = document.createElement("span");
    swatch.className = className || "swatch";
    if (colour) swatch.style.background = colour;
    item.appendChild(swatch);
    item.appendChild(document.createTextNode(text));
    list.appendChild(item);
  }

  function legend(list, max, measure, hasDeclared, hasPlaces, hasMembers) {
    if (!list) return;
    list.textContent = "";
    var seen = {};
    for (var v = 1; v <= max; v += 1) {
      var colour = shade(v, max);
      if (seen[colour]) { seen[colour][1] = v; continue; }
      seen[colour] = [v, v];
    }
    Object.keys(seen).forEach(function (colour) {
      var item = document.createElement("li");
      var swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = colour;
      item.appendChild(swatch);
      var range = seen[colour];
      item.appendChild(document.createTextNode(
        range[0] === range[1] ? amount(range[0], measure.one, measure.other)
                              : range[0] + "–" + range[1] + " " + measure.other));
      list.appendChild(item);
    });
    if (hasDeclared) {
      var item = document.createElement("li");
      var swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = DECLARED;
      item.appendChild(swatch);
      item.appendChild(document.createTextNode("declared, no partner recorded"));
      list.appendChild(item);
    }
    if (hasPlaces) {
      var placeItem = document.createElement("li");
      var dot = document.createElement("span");
      dot.className = "swatch swatch-place";
      placeItem.appendChild(dot);
      placeItem.appendChild(document.createTextNode(
        "region or province taking part through its own organisations (size: " + measure.other + ")"));
      list.appendChild(placeItem);
    }
    if (hasMembers) swatchItem(list, MEMBER, "member country, no participation recorded yet");
  }

  function showTooltip(container, tooltip, event, text) {
    var box = container.getBoundingClientRect();
    tooltip.textContent = text;
    tooltip.style.left = Math.round(event.clientX - box.left + container.offsetLeft + 12) + "px";
    tooltip.style.top = Math.round(event.clientY - box.top + container.offsetTop + 12) + "px";
    tooltip.hidden = false;
  }

  // Sub-national regions (Tuscany, Navarre, Flanders, ...) as dots at a point inside each.
  function drawPlaces(group, places, projection, container, tooltip, measure) {
    var most = 1;
    places.forEach(function (p) { most = Math.max(most, p.participations); });
    var drawn = 0;
    places.forEach(function (p) {
      var xy = projection([p.longitude, p.latitude]);
      if (!xy) return;
      var dot = el("circle", { cx: xy[0], cy: xy[1], r: 2.5 + 5.5 * Math.sqrt(p.participations / most),
                               "class": "place", stroke: "#ffffff", "stroke-width": 0.8 });
      dot.style.fill = PLACE;
      dot.dataset.code = p.code;
      var title = el("title");
      title.textContent = p.name + " (" + p.country_code + "): " +
        amount(p.participations, measure.one, measure.other) + " in " +
        amount(p.initiatives, "initiative");
      dot.appendChild(title);
      dot.addEventListener("mousemove", function (event) { showTooltip(container, tooltip, event, title.textContent); });
      dot.addEventListener("mouseleave", function () { tooltip.hidden = true; });
      dot.addEventListener("click", function () { window.location.assign(p.url); });
      group.appendChild(dot);
      drawn += 1;
    });
    return drawn;
  }

  function draw(container, topology, data, view) {
    var tooltip = document.getElementById("map-tooltip");
    // The data name what they count, in the singular and the plural.
    var measure = { one: data.measure_one || "participation", other: data.measure || "participations" };
    var byNumeric = {};
    var max = 0, hasDeclared = false, hasMembers = false;
    data.countries.forEach(function (c) {
      if (c.numeric) byNumeric[c.numeric] = c;
      max = Math.max(max, c.participations || 0);
      if (!c.participations && c.declared) hasDeclared = true;
    });
    var land = topojson.feature(topology, topology.objects.countries);
    var projection = projectionFor(view, land, data.focus);
    var path = d3.geoPath(projection);
    var svg = el("svg", { viewBox: "0 0 " + WIDTH + " " + HEIGHT, "aria-hidden": "true", focusable: "false" });
    svg.appendChild(el("path", { d: path({ type: "Sphere" }), fill: "#eaf2f8" }));
    var markers = el("g");
    var coloured = 0;

    land.features.forEach(function (feature) {
      var info = byNumeric[feature.id];
      var d = path(feature);
      if (!d) return;
      var shape = el("path", { d: d, "class": "land" });
      shape.dataset.numeric = String(feature.id);  // ISO 3166 numeric, as in the outlines
      if (info) {
        var colour = shade(info.participations, max) || (info.declared ? DECLARED : null) ||
          (info.member ? MEMBER : null);
        if (colour === MEMBER) hasMembers = true;
        if (colour) {
          shape.style.fill = colour;  // a style beats the stylesheet's default land colour
          shape.setAttribute("class", "land has-data");
          shape.dataset.code = info.code;
          coloured += 1;
          var title = el("title");
          title.textContent = info.name + ": " + amount(info.participations || 0, measure.one, measure.other);
          shape.appendChild(title);
          shape.addEventListener("mousemove", function (event) {
            showTooltip(container, tooltip, event, title.textContent);
          });
          shape.addEventListener("mouseleave", function () { tooltip.hidden = true; });
          shape.addEventListener("click", function () { window.location.assign(info.url); });
          if (path.area(feature) < 6) {  // too small to see or click: add a marker
            var centre = path.centroid(feature);
            var dot = el("circle", { cx: centre[0], cy: centre[1], r: 3.5,
                                     stroke: "#1b2430", "stroke-width": 0.8, "class": "land has-data" });
            dot.style.fill = colour;
            dot.addEventListener("click", function () { window.location.assign(info.url); });
            markers.appendChild(dot);
          }
        }
      }
      svg.appendChild(shape);
    });
    svg.appendChild(markers);
    var places = el("g");
    var placesDrawn = drawPlaces(places, data.places || [], projection, container, tooltip, measure);
    svg.appendChild(places);
    container.textContent = "";
    container.appendChild(svg);
    container.dataset.countries = String(coloured);
    container.dataset.places = String(placesDrawn);
    container.dataset.view = view;
    container.dataset.ready = "1";
    legend(document.getElementById("map-legend"), max, measure, hasDeclared, placesDrawn > 0,
           hasMembers);
  }

  // The view buttons (a group of buttons in the page, each with data-view) redraw the map.
  function viewButtons(container, redraw) {
    var buttons = document.querySelectorAll("[data-map-view]");
    function press(view) {
      buttons.forEach(function (b) {
        b.setAttribute("aria-pressed", b.dataset.mapView === view ? "true" : "false");
      });
    }
    buttons.forEach(function (button) {
      button.disabled = false;
      button.addEventListener("click", function () {
        press(button.dataset.mapView);
        redraw(button.dataset.mapView);
      });
    });
    press(container.dataset.view);
  }

  function init() {
    var container = document.getElementById("map");
    if (!container || typeof d3 === "undefined" || typeof topojson === "undefined") return;
    Promise.all([
      fetch(container.dataset.outlines).then(function (r) { return r.json(); }),
      fetch(container.dataset.source).then(function (r) { return r.json(); }),
    ]).then(function (results) {
      var redraw = function (view) { draw(container, results[0], results[1], view); };
      redraw(VIEWS.hasOwnProperty(container.dataset.view) || container.dataset.view === "focus"
             ? container.dataset.view : "world");
      viewButtons(container, redraw);
    })
      .catch(function (error) {
        container.textContent = "The map could not be drawn (" + error.message + "); the table lists the same numbers.";
      });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
