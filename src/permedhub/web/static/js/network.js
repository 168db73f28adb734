// The home page's network: positions come from the server (seeded layout), the browser draws.
// Names are data: they reach the page only through textContent and Cytoscape's canvas labels,
// never through innerHTML.
(function () {
  "use strict";
  var COLORS = { initiative: "#0b5394", organisation: "#d97706", country: "#0f766e", aggregate: "#0f766e" };
  var FONT = { size: 13, initiative: 17, family: "Helvetica Neue, Helvetica, sans-serif" };
  var LABEL_GAP = 3;  // px between two labels, at any zoom

  // How wide a label is drawn, from the canvas's own text metrics (cached per text and size).
  var measureContext = document.createElement("canvas").getContext("2d");
  var widths = {};
  function textWidth(text, size, bold) {
    var key = size + (bold ? "b" : "") + "|" + text;
    if (!(key in widths)) {
      measureContext.font = (bold ? "bold " : "") + size + "px " + FONT.family;
      widths[key] = measureContext.measureText(text).width;
    }
    return widths[key];
  }

  // Case and accents folded, so that "sante" finds "Santé".
  function folded(text) {
    return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  // Which labels come first when not all fit: search matches, the highlighted neighbourhood,
  // initiatives, countries, then organisations; within each, the most connected.
  function labelRank(node) {
    var group = node.hasClass("match") ? 0 : node.hasClass("highlight") ? 1
      : node.data("type") === "initiative" ? 2 : node.data("type") === "organisation" ? 4 : 3;
    return [group, -(node.data("type") === "aggregate" || node.data("type") === "country"
      ? node.data("weight") : node.degree(false))];
  }

  function query(form) {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) { if (value !== "") params.append(key, value); });
    return params.toString();
  }

  // Countries and aggregates are sized by area relative to the heaviest one (14 to 60 px): their
  // weights run from one organisation to a million participations.
  function sized(type) { return type === "country" || type === "aggregate"; }

  function elements(data) {
    var heaviest = 1;
    data.nodes.forEach(function (n) {
      if (sized(n.type)) heaviest = Math.max(heaviest, n.weight || 1);
    });
    var nodes = data.nodes.map(function (n) {
      var weight = n.weight || 1;
      return {
        group: "nodes",
        data: { id: n.id, label: n.label, type: n.type, url: n.url || "", kind: n.kind || "",
                weight: weight, size: 14 + 46 * Math.sqrt(weight / heaviest) },
        position: { x: n.x, y: n.y },
      };
    });
    var edges = data.edges.map(function (e, i) {
      return { group: "edges", data: { id: "e" + i, source: e.source, target: e.target,
                                       type: e.type, label: e.label || "", weight: e.weight || 1 } };
    });
    return nodes.concat(edges);
  }

  function style() {
    return [
      { selector: "node", style: {
          "background-color": function (n) { return COLORS[n.data("type")] || "#555"; },
          "label": "", "font-size": FONT.size, "color": "#1b2430",
          "text-valign": "bottom", "text-margin-y": 3, "min-zoomed-font-size": 7,
          "text-background-color": "#ffffff", "text-background-opacity": 0.7,
          "text-background-padding": 1, "width": 16, "height": 16,
          "border-width": 1, "border-color": "#ffffff" } },
      { selector: 'node[type = "initiative"]', style: {
          "width": 36, "height": 36, "font-size": FONT.initiative, "font-weight": "bold", "z-index": 10 } },
      { selector: "node.labelled", style: { "label": "data(label)" } },
      { selector: 'node[type = "country"], node[type = "aggregate"]', style: {
          "shape": "round-rectangle",
          "width": "data(size)", "height": "data(size)" } },
      { selector: "edge", style: { "width": 1, "line-color": "#b8c2cf", "curve-style": "haystack",
                                   "opacity": 0.8 } },
      { selector: 'edge[type = "link"]', style: { "line-color": "#0b5394", "width": 2,
          "curve-style": "bezier", "target-arrow-shape": "triangle",
          "target-arrow-color": "#0b5394" } },
      { selector: 'edge[type = "location"]', style: { "line-style": "dotted", "opacity": 0.5 } },
      { selector: ".faded", style: { "opacity": 0.12 } },
      { selector: ".unmatched", style: { "opacity": 0.15 } },
      { selector: "node.match", style: { "border-width": 4, "border-color": "#ffbf47",
          "z-index": 20, "text-background-color": "#ffe08a", "text-background-opacity": 1 } },
      { selector: "node.highlight", style: { "border-width": 3, "border-color": "#ffbf47" } },
      { selector: "edge.highlight", style: { "line-color": "#d97706", "width": 2.5, "opacity": 1 } },
    ];
  }

  function init() {
    var container = document.getElementById("network");
    var form = document.getElementById("network-filters");
    var tooltip = document.getElementById("network-tooltip");
    var status = document.getElementById("network-status");
    if (!container || typeof cytoscape !== "function") return;

    var cy = cytoscape({
      container: container, elements: [], style: style(), layout: { name: "preset" },
      minZoom: 0.2, maxZoom: 4, boxSelectionEnabled: false,
    });
    window.permedhubNetwork = cy;

    // Label only what fits: in rank order, a label is drawn where it is on screen and covers
    // no label drawn already and no other node (an initiative's may cover organisations, which
    // crowd around it, and a search match's any node); the rest show their name on hover.
    // Recomputed after zoom or pan. Boxes are kept in a grid of CELL px, so a check looks
    // only at its neighbours.
    var CELL = 64;
    function Grid() { this.cells = {}; }
    Grid.prototype.keys = function (box) {
      var keys = [];
      for (var gx = Math.floor(box.x1 / CELL); gx <= Math.floor(box.x2 / CELL); gx += 1) {
        for (var gy = Math.floor(box.y1 / CELL); gy <= Math.floor(box.y2 / CELL); gy += 1) keys.push(gx + ":" + gy);
      }
      return keys;
    };
    Grid.prototype.add = function (box) {
      var cells = this.cells;
      this.keys(box).forEach(function (key) { (cells[key] = cells[key] || []).push(box); });
    };
    Grid.prototype.hits = function (box) {
      var cells = this.cells;
      return this.keys(box).some(function (key) {
        return (cells[key] || []).some(function (other) {
          return other.owner !== box.owner && box.x1 < other.x2 && other.x1 < box.x2 &&
            box.y1 < other.y2 && other.y1 < box.y2;
        });
      });
    };

    function placeLabels() {
      var zoom = cy.zoom();
      var width = cy.width(), height = cy.height();
      var labels = new Grid(), nodes = new Grid(), organisations = new Grid();
      var placed = 0;
      var ranked = cy.nodes().toArray().map(function (node) {
        var p = node.renderedPosition();
        var half = node.renderedOuterWidth() / 2;
        if (p.x + half > 0 && p.x - half < width && p.y + half > 0 && p.y - half < height) {
          (node.data("type") === "organisation" ? organisations : nodes).add(
            { x1: p.x - half, x2: p.x + half, y1: p.y - half, y2: p.y + half, owner: node.id() });
        }
        return { node: node, rank: labelRank(node), position: p };
      }).sort(function (a, b) {
        return a.rank[0] - b.rank[0] || a.rank[1] - b.rank[1] ||
          (a.node.id() < b.node.id() ? -1 : 1);
      });
      cy.batch(function () {
        ranked.forEach(function (entry) {
          var node = entry.node, p = entry.position;
          var bold = node.data("type") === "initiative";
          var found = node.hasClass("match");  // what was searched for is named over nodes
          var size = (bold ? FONT.initiative : FONT.size) * zoom;
          var text = node.data("label");
          var fits = size >= 7 && text;  // below 7 px Cytoscape draws no label anyway
          if (fits) {
            // Cytoscape's own label box is a little wider and taller than the text's metrics
            // (its background padding and line height): the margins keep the estimate above it.
            var w = textWidth(text, size, bold) * 1.08 + 4 * zoom + LABEL_GAP;
            var top = p.y + node.renderedOuterHeight() / 2 + 2 * zoom;
            var box = { x1: p.x - w / 2, x2: p.x + w / 2, y1: top, y2: top + size * 1.5 + LABEL_GAP,
                        owner: node.id() };
            fits = box.x2 > 0 && box.x1 < width && box.y2 > 0 && box.y1 < height &&
              !labels.hits(box) && (found || !nodes.hits(box)) &&
              (found || bold || !organisations.hits(box));
            if (fits) { labels.add(box); placed += 1; }
          }
          if (fits) node.addClass("labelled"); else node.removeClass("labelled");
        });
      });
      container.dataset.labels = String(placed);
    }
    var labelTimer = null;
    function placeLabelsSoon() {
      clearTimeout(labelTimer);
      labelTimer = setTimeout(placeLabels, 60);
    }
    cy.on("viewport", placeLabelsSoon);
    cy.on("dragfree", "node", placeLabelsSoon);

    function showTooltip(node) {
      var parts = [node.data("label"), node.data("type")];
      if (node.data("kind")) parts.push(node.data("kind"));
      // A country counts its organisations; an aggregate (a country, or the initiatives not
      // shown one by one, of a large network) counts participations.
      if (node.data("type") === "country") {
        parts.push(window.permedhubAmount(node.data("weight"), "organisation"));
      } else if (node.data("type") === "aggregate") {
        parts.push(window.permedhubAmount(node.data("weight"), "participation"));
      }
      tooltip.textContent = parts.join(" · ");
      var p = node.renderedPosition();
      tooltip.style.left = Math.round(p.x + 12) + "px";
      tooltip.style.top = Math.round(p.y + 12) + "px";
      tooltip.hidden = false;
    }

    function clearHighlight() {
      var had = cy.$(".highlight").length > 0;
      cy.elements().removeClass("faded highlight");
      tooltip.hidden = true;
      if (had) placeLabelsSoon();
    }

    function highlight(node) {
      if (node.data("type") !== "initiative") return;
      var around = node.closedNeighborhood();
      cy.elements().not(around).addClass("faded");
      around.addClass("highlight");
      placeLabelsSoon();
    }

    // Find in the network: nodes whose name contains the words typed are marked and labelled
    // first, the rest fade; Enter zooms to them.
    var finder = document.getElementById("network-find");
    function matches() {
      var wanted = finder ? folded(finder.value.trim()) : "";
      cy.elements().removeClass("match unmatched");
      if (!wanted) return cy.collection();
      var found = cy.nodes().filter(function (node) { return folded(node.data("label")).indexOf(wanted) !== -1; });
      cy.elements().not(found).not(found.connectedEdges()).addClass("unmatched");
      found.addClass("match");
      return found;
    }
    function find(zoomTo) {
      var found = matches();
      placeLabels();
      var wanted = finder.value.trim();
      container.dataset.matches = String(found.length);
      if (!wanted) { status.textContent = summary; return; }
      if (!found.length) {
        status.textContent = "No node of the network is named “" + wanted + "”. The search page looks through every record.";
        return;
      }
      var names = found.slice(0, 5).map(function (n) { return n.data("label"); }).join(", ");
      status.textContent = window.permedhubAmount(found.length, "node") + " named “" + wanted + "”: " +
        names + (found.length > 5 ? ", …" : "") + (zoomTo ? "" : ". Press Enter to zoom to them.");
      if (zoomTo) {
        cy.fit(found, 80);
        if (cy.zoom() > 2) { cy.zoom(2); cy.center(found); }
        placeLabels();
      }
    }
    if (finder) {
      var findTimer = null;
      finder.addEventListener("input", function () {
        clearTimeout(findTimer);
        findTimer = setTimeout(function () { find(false); }, 120);
      });
      finder.addEventListener("keydown", function (event) {
        if (event.key === "Enter") { event.preventDefault(); find(true); }
      });
    }

    cy.on("mouseover", "node", function (event) {
      var node = event.target;
      showTooltip(node);
      highlight(node);
      container.style.cursor = "pointer";
    });

    // The same highlight from the keyboard: a list of the initiatives drawn.
    var chooser = document.getElementById("network-focus");
    var opener = document.getElementById("network-open");
    function fillChooser() {
      if (!chooser) return;
      var chosen = chooser.value;
      while (chooser.options.length > 1) chooser.remove(1);
      cy.nodes('[type = "initiative"]').sort(function (a, b) {
        return a.data("label").localeCompare(b.data("label"));
      }).forEach(function (node) {
        var option = document.createElement("option");
        option.value = node.id();
        option.textContent = node.data("label");
        chooser.appendChild(option);
      });
      chooser.disabled = false;
      chooser.value = cy.getElementById(chosen).length ? chosen : "";
      chooser.dispatchEvent(new Event("input"));
    }
    if (chooser) {
      chooser.addEventListener("input", function () {
        clearHighlight();
        var node = chooser.value ? cy.getElementById(chooser.value) : null;
        if (node && node.length) {
          highlight(node);
          showTooltip(node);
          opener.href = node.data("url");
          opener.removeAttribute("aria-disabled");
          status.textContent = node.data("label") + ": " + (node.closedNeighborhood().nodes().length - 1) +
            " connected nodes highlighted.";
        } else {
          opener.href = "/initiatives";
          opener.setAttribute("aria-disabled", "true");
        }
      });
    }
    cy.on("mouseout", "node", function () { clearHighlight(); container.style.cursor = ""; });
    cy.on("tap", "node", function (event) {
      var url = event.target.data("url");
      if (url && url.charAt(0) === "/" && url.charAt(1) !== "/") window.location.assign(url);
    });

    var summary = "";
    function load() {
      var q = form ? query(form) : "";
      container.dataset.ready = "";
      return fetch(container.dataset.source + (q ? "?" + q : ""), { headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error("the server answered " + response.status);
          return response.json();
        })
        .then(function (data) {
          clearHighlight();
          cy.elements().remove();
          cy.add(elements(data));
          cy.fit(undefined, 20);
          fillChooser();
          summary = data.nodes.length + " nodes and " + data.edges.length + " connections shown.";
          if (data.aggregated) summary += " " + data.aggregated + ".";
          status.textContent = summary;
          container.dataset.nodes = String(data.nodes.length);
          if (finder && finder.value.trim()) find(false); else placeLabels();
          container.dataset.ready = "1";
        })
        .catch(function (error) {
          status.textContent = "The network could not be loaded: " + error.message +
            ". The table below lists the same connections.";
        });
    }

    if (form) {
      form.addEventListener("change", load);
      form.addEventListener("submit", function (event) { event.preventDefault(); load(); });
    }
    load();
  }

  document.addEventListener("DOMContentLoaded", init);
})();
