// The events list's bulk edit: a box that ticks every event on the page, and how many are
// ticked. The form works without this script ("Every event on this page" does the same).
(function () {
  "use strict";
  var form = document.getElementById("bulk-form");
  if (!form) return;
  var all = document.getElementById("select-page");
  var count = form.querySelector("[data-selected-count]");
  var ticked = form.querySelector('input[name="scope"][value="selected"]');

  function boxes() {
    return Array.prototype.slice.call(form.querySelectorAll('input[name="ids"]'));
  }

  function update() {
    var list = boxes();
    var n = list.filter(function (box) { return box.checked; }).length;
    if (all) {
      all.checked = n > 0 && n === list.length;
      all.indeterminate = n > 0 && n < list.length;
    }
    if (count) count.textContent = n ? "(" + n + " ticked)" : "";
  }

  if (all) {
    all.hidden = false;
    all.addEventListener("change", function () {
      boxes().forEach(function (box) { box.checked = all.checked; });
      if (ticked) ticked.checked = true;
      update();
    });
  }
  form.addEventListener("change", function (event) {
    if (event.target.name !== "ids") return;
    if (ticked && event.target.checked) ticked.checked = true;
    update();
  });
  update();
})();
