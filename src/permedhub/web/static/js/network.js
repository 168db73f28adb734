// The home page's network: positions come from the server (seeded layout), the browser draws.
// Names are data: they reach the page only through textContent and Cytoscape's canvas labels,
// never through innerHTML.
(function () {
  "use strict";
  var COLORS = { initiative: "#0b5394", organisation: "#d97706", country: "#0f766e", aggregate: "#0f766e" };
  // A search match is named larger: legible in the overview of a big network, where other
  // organisations' names are too small to draw.
  var FONT = { size: 13, initiative: 17, match: 16, family: "Helvetica Neue, Helvetica, sans-serif" };
  var LABEL_GAP = 3;  // px between two labels, at any zoom
  var LABEL_MARGIN = 3;  // model units between a node's outline and its label
  // Where a label may go, in the order tried: the first side where it fits wholly on screen,
  // clear of every other label and node, is used.
  var SIDES = ["right", "left", "above", "below"];
  var SIDE_CLASSES = SIDES.map(function (side) { return "label-" + side; }).join(" ");

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

  // Sizes come with the positions: the server's layout keeps every node clear of the others
  // at exactly the size it says (graph/layout.py, node_sizes).
  function elements(data) {
    var nodes = data.nodes.map(function (n) {
      return {
        group: "nodes",
        data: { id: n.id, label: n.label, type: n.type, url: n.url || "", kind: n.kind || "",
                weight: n.weight || 1, size: n.size },
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
          "text-valign": "bottom", "text-margin-y": LABEL_MARGIN, "min-zoomed-font-size": 7,
          "text-background-color": "#ffffff", "text-background-opacity": 0.7,
          "text-background-padding": 1, "width": "data(size)", "height": "data(size)",
          "border-width": 1, "border-color": "#ffffff" } },
      { selector: 'node[type = "initiative"]', style: {
          "font-size": FONT.initiative, "font-weight": "bold", "z-index": 10 } },
      { selector: "node.labelled", style: { "label": "data(label)" } },
      { selector: "node.label-right", style: { "text-halign": "right", "text-valign": "center",
          "text-margin-x": LABEL_MARGIN, "text-margin-y": 0 } },
      { selector: "node.label-left", style: { "text-halign": "left", "text-valign": "center",
          "text-margin-x": -LABEL_MARGIN, "text-margin-y": 0 } },
      { selector: "node.label-above", style: { "text-halign": "center", "text-valign": "top",
          "text-margin-x": 0, "text-margin-y": -LABEL_MARGIN } },
      { selector: "node.label-below", style: { "text-halign": "center", "text-valign": "bottom",
          "text-margin-x": 0, "text-margin-y": LABEL_MARGIN } },
      { selector: 'node[type = "country"], node[type = "aggregate"]', style: {
          "shape": "round-rectangle" } },
      { selector: "edge", style: { "width": 1, "line-color": "#b8c2cf", "curve-style": "haystack",
                                   "opacity": 0.8 } },
      { selector: 'edge[type = "link"]', style: { "line-color": "#0b5394", "width": 2,
          "curve-style": "bezier", "target-arrow-shape": "triangle",
          "target-arrow-color": "#0b5394" } },
      { selector: 'edge[type = "location"]', style: { "line-style": "dotted", "opacity": 0.5 } },
      { selector: ".faded", style: { "opacity": 0.12 } },
      { selector: ".unmatched", style: { "opacity": 0.15 } },
      { selector: 'node.match[type != "initiative"]', style: { "font-size": FONT.match } },
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

    // Label only what fits: in rank order, each label goes on the first of SIDES where it is
    // wholly on screen and covers no label drawn already and no other node. Failing that, an
    // initiative's may cover organisations (which crowd around it: the overview would name
    // only the initiatives at the edge of the drawing) and a search match's the nodes faded
    // around it, on the first side where it covers nothing else; the rest show their name on
    // hover. Recomputed after zoom or pan. Boxes are kept in a grid of CELL px, so a check
    // looks only at its neighbours.
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

    // The box a label of `w` x `h` rendered px takes on `side` of a node at `p` whose outline
    // is `half` px from its centre, LABEL_GAP included all round.
    function sideBox(side, p, half, w, h, margin, owner) {
      var g = LABEL_GAP / 2, x1, y1;
      if (side === "right") { x1 = p.x + half + margin; y1 = p.y - h / 2; }
      else if (side === "left") { x1 = p.x - half - margin - w; y1 = p.y - h / 2; }
      else if (side === "above") { x1 = p.x - w / 2; y1 = p.y - half - margin - h; }
      else { x1 = p.x - w / 2; y1 = p.y + half + margin; }
      return { x1: x1 - g, x2: x1 + w + g, y1: y1 - g, y2: y1 + h + g, owner: owner };
    }

    function placeLabels() {
      var zoom = cy.zoom();
      var width = cy.width(), height = cy.height();
      var labels = new Grid(), nodes = new Grid(), organisations = new Grid(), faded = new Grid();
      var placed = 0;
      var ranked = cy.nodes().toArray().map(function (node) {
        var p = node.renderedPosition();
        var half = node.renderedOuterWidth() / 2;
        var clear = half + LABEL_GAP / 2;  // Cytoscape's box of a node reaches a little past it
        if (p.x + half > 0 && p.x - half < width && p.y + half > 0 && p.y - half < height) {
          var grid = node.hasClass("unmatched") ? faded
            : node.data("type") === "organisation" ? organisations : nodes;
          grid.add({ x1: p.x - clear, x2: p.x + clear, y1: p.y - clear, y2: p.y + clear,
                     owner: node.id() });
        }
        return { node: node, rank: labelRank(node), position: p, half: half };
      }).sort(function (a, b) {
        return a.rank[0] - b.rank[0] || a.rank[1] - b.rank[1] ||
          (a.node.id() < b.node.id() ? -1 : 1);
      });
      cy.batch(function () {
        ranked.forEach(function (entry) {
          var node = entry.node;
          var bold = node.data("type") === "initiative";
          var found = node.hasClass("match");
          var size = (bold ? FONT.initiative : found ? FONT.match : FONT.size) * zoom;
          var text = node.data("label");
          var side = null;
          if (size >= 7 && text) {  // below 7 px Cytoscape draws no label anyway
            // Cytoscape's own label box is a little wider and taller than the text's metrics
            // (its background padding and line height): the margins keep the estimate above it.
            var w = textWidth(text, size, bold) * 1.08 + 4 * zoom;
            var h = size * 1.5;
            var passes = bold || found ? [false, true] : [false];
            for (var pass = 0; pass < passes.length && side === null; pass += 1) {
              var lenient = passes[pass];
              for (var s = 0; s < SIDES.length && side === null; s += 1) {
                var box = sideBox(SIDES[s], entry.position, entry.half, w, h,
                                  LABEL_MARGIN * zoom, node.id());
                if (box.x1 >= 0 && box.x2 <= width && box.y1 >= 0 && box.y2 <= height &&
                    !labels.hits(box) && !nodes.hits(box) &&
                    ((lenient && bold) || !organisations.hits(box)) &&
                    ((lenient && found) || !faded.hits(box))) {
                  labels.add(box);
                  side = SIDES[s];
                }
              }
            }
          }
          node.removeClass("labelled " + SIDE_CLASSES);
          if (side !== null) { node.addClass("labelled label-" + side); placed += 1; }
        });
      });
      container.dataset.labels = String(placed);
      delete container.dataset.labelsPending;
    }
    var labelTimer = null;
    function placeLabelsSoon() {
      clearTimeout(labelTimer);
      // Until the labels are placed for the new view, the count above is the old view's.
      container.dataset.labelsPending = "1";
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
        // To the nodes themselves: their labels may sit on any side.
        var bodies = found.boundingBox({ includeLabels: false });
        cy.fit(bodies, 80);
        if (cy.zoom() > 2) {
          cy.zoom(2);
          cy.pan({ x: cy.width() / 2 - (bodies.x1 + bodies.x2), y: cy.height() / 2 - (bodies.y1 + bodies.y2) });
        }
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
