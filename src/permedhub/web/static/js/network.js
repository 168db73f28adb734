// The home page's network: positions come from the server (seeded layout), the browser draws.
// Names are data: they reach the page only through textContent and Cytoscape's canvas labels,
// never through innerHTML.
(function () {
  "use strict";
  var COLORS = { initiative: "#0b5394", organisation: "#d97706", country: "#0f766e", aggregate: "#0f766e" };

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
          "label": "data(label)", "font-size": 13, "color": "#1b2430",
          "text-valign": "bottom", "text-margin-y": 3, "min-zoomed-font-size": 7,
          "text-background-color": "#ffffff", "text-background-opacity": 0.7,
          "text-background-padding": 1, "width": 16, "height": 16,
          "border-width": 1, "border-color": "#ffffff" } },
      { selector: 'node[type = "initiative"]', style: {
          "width": 36, "height": 36, "font-size": 17, "font-weight": "bold", "z-index": 10 } },
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
      cy.elements().removeClass("faded highlight");
      tooltip.hidden = true;
    }

    function highlight(node) {
      if (node.data("type") !== "initiative") return;
      var around = node.closedNeighborhood();
      cy.elements().not(around).addClass("faded");
      around.addClass("highlight");
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
          container.dataset.nodes = String(data.nodes.length);
          container.dataset.ready = "1";
          var message = data.nodes.length + " nodes and " + data.edges.length + " connections shown.";
          if (data.aggregated) message += " " + data.aggregated + ".";
          status.textContent = message;
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
