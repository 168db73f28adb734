// Sortable and filterable tables: progressive enhancement of server-rendered <table>s.
// Sorting: every <th> of a table[data-sortable] becomes a button (keyboard-usable) and gets
// aria-sort. Filtering: controls inside [data-filters-for=TABLE_ID] with data-filter="text"
// (matches the row's text) or data-filter="NAME" (matches the row's data-NAME attribute).
(function () {
  "use strict";

  function cellValue(row, index) {
    var cell = row.cells[index];
    return cell ? cell.textContent.trim() : "";
  }

  function compare(a, b, numeric) {
    if (numeric) {
      var x = parseFloat(a.replace(/[^0-9.\-]/g, "")), y = parseFloat(b.replace(/[^0-9.\-]/g, ""));
      if (isNaN(x)) x = -Infinity;
      if (isNaN(y)) y = -Infinity;
      return x - y;
    }
    return a.localeCompare(b, undefined, { sensitivity: "base", numeric: true });
  }

  function makeSortable(table) {
    if (table.dataset.sortReady) return;
    table.dataset.sortReady = "1";
    var headers = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(headers, function (th, index) {
      if (!th.textContent.trim()) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort-button";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(headers, function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var numeric = th.classList.contains("num");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (r1, r2) {
          var order = compare(cellValue(r1, index), cellValue(r2, index), numeric);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  }

  function makeFilterable(box) {
    if (box.dataset.filterReady) return;
    box.dataset.filterReady = "1";
    var table = document.getElementById(box.dataset.filtersFor);
    if (!table) return;
    var controls = box.querySelectorAll("[data-filter]");
    var counter = document.querySelector('[data-count-for="' + table.id + '"]');
    function apply() {
      var shown = 0, rows = table.tBodies[0].rows;
      Array.prototype.forEach.call(rows, function (row) {
        var visible = true;
        Array.prototype.forEach.call(controls, function (control) {
          var wanted = control.value.trim().toLowerCase();
          if (!wanted) return;
          if (control.dataset.filter === "text") {
            if (row.textContent.toLowerCase().indexOf(wanted) === -1) visible = false;
          } else if ((row.dataset[control.dataset.filter] || "").toLowerCase() !== wanted) {
            visible = false;
          }
        });
        row.hidden = !visible;
        if (visible) shown += 1;
      });
      if (counter) counter.textContent = "Showing " + shown + " of " + rows.length + " rows.";
    }
    Array.prototype.forEach.call(controls, function (control) {
      control.addEventListener("input", apply);
      control.addEventListener("change", apply);
    });
    apply();
  }

  function init(root) {
    Array.prototype.forEach.call(root.querySelectorAll("table[data-sortable]"), makeSortable);
    Array.prototype.forEach.call(root.querySelectorAll("[data-filters-for]"), makeFilterable);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSwap", function (event) { init(event.target); });
})();
