// Exception queue behaviour (CSP: no inline script). Delegated, so it survives htmx swaps.
(function () {
  "use strict";

  // "Select all" checkbox in the table header ticks every row checkbox of the same name.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (box.matches && box.matches("input[data-select-all]")) {
      var name = box.getAttribute("data-select-all");
      document.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (row) {
        row.checked = box.checked;
      });
    }
    if (box.matches && box.matches('#bulk-form select[name="action"]')) {
      showBulkInputs(box.form);
    }
  });

  // Show only the inputs the chosen bulk action uses.
  function showBulkInputs(form) {
    if (!form) return;
    var action = form.querySelector('select[name="action"]').value;
    form.querySelectorAll("[data-bulk-for]").forEach(function (el) {
      var wanted = el.getAttribute("data-bulk-for").split(" ");
      el.classList.toggle("d-none", wanted.indexOf(action) === -1);
    });
  }

  function init() {
    showBulkInputs(document.getElementById("bulk-form"));
  }
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
})();
