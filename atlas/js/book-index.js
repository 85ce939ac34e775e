/* The book's index (atlas/templates/index.html): sort the table by a clicked heading and filter its rows. */
(function () {
  "use strict";
  var table = document.getElementById("places");
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var selects = Array.prototype.slice.call(document.querySelectorAll("select[data-filter]"));
  var shown = document.getElementById("shown");
  var perDesignation = ["programme", "level", "batch"];

  rows.forEach(function (row, i) { row.dataset.order = i; });

  function wanted() {
    var want = {};
    selects.forEach(function (s) { if (s.value) { want[s.dataset.filter] = s.value; } });
    return want;
  }

  function matches(row, want) {
    if (want.district && row.dataset.district !== want.district) { return false; }
    var keys = perDesignation.filter(function (k) { return want[k]; });
    if (!keys.length) { return true; }
    return Array.prototype.some.call(row.querySelectorAll("li[data-programme]"), function (li) {
      return keys.every(function (k) { return li.dataset[k] === want[k]; });
    });
  }

  function filter() {
    var want = wanted();
    var count = 0;
    rows.forEach(function (row) {
      row.hidden = !matches(row, want);
      if (!row.hidden) { count += 1; }
    });
    shown.textContent = count;
  }

  function sortBy(column) {
    var th = headers[column];
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var numeric = th.dataset.type === "number";
    function key(row) { return row.cells[column].dataset.sort; }
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      var c = numeric ? Number(x) - Number(y) : x.localeCompare(y, "en", {sensitivity: "base"});
      if (!ascending) { c = -c; }
      return c || Number(a.dataset.order) - Number(b.dataset.order);
    });
    headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    rows.forEach(function (row) { body.appendChild(row); });
  }

  headers.forEach(function (th, column) {
    var button = th.querySelector("button");
    if (button) { button.addEventListener("click", function () { sortBy(column); }); }
  });
  selects.forEach(function (s) { s.addEventListener("change", filter); });
  document.getElementById("filters").addEventListener("reset", function () { setTimeout(filter, 0); });
  filter();
}());
