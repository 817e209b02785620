/* The field editor of a defined form (settings, Forms): add, move and remove rows of the field table;
   on saving, the rows go to the hidden JSON field the server checks. Also asks before a delete. */
(function () {
  "use strict";

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  var form = document.getElementById("definition-form");
  if (!form) { return; }
  var body = document.getElementById("field-rows");
  var blank = document.getElementById("field-row-template");

  function input(row, name) { return row.querySelector("[data-f=" + name + "]"); }

  // Show only the settings the chosen type takes (choices, number bounds, longest text).
  function fitToType(row) {
    var type = input(row, "type");
    var takes = type.options[type.selectedIndex].getAttribute("data-takes");
    input(row, "choices").disabled = takes !== "choices";
    input(row, "min").disabled = input(row, "max").disabled = takes !== "number";
    input(row, "max_length").disabled = takes !== "text";
  }

  document.getElementById("add-field").addEventListener("click", function () {
    var row = blank.content.firstElementChild.cloneNode(true);
    body.appendChild(row);
    fitToType(row);
    input(row, "name").focus();
  });

  body.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) { return; }
    var row = button.closest("tr");
    if (button.classList.contains("remove-field")) {
      row.remove();
    } else if (button.classList.contains("move-up") && row.previousElementSibling) {
      body.insertBefore(row, row.previousElementSibling);
    } else if (button.classList.contains("move-down") && row.nextElementSibling) {
      body.insertBefore(row.nextElementSibling, row);
    }
  });
  body.addEventListener("change", function (event) {
    if (event.target.getAttribute("data-f") === "type") { fitToType(event.target.closest("tr")); }
  });
  body.querySelectorAll("tr").forEach(fitToType);

  form.addEventListener("submit", function () {
    var fields = Array.prototype.map.call(body.querySelectorAll("tr"), function (row) {
      function text(name) { var el = input(row, name); return el.disabled ? "" : el.value.trim(); }
      return {
        name: text("name"), label: text("label"), type: input(row, "type").value,
        required: input(row, "required").checked,
        choices: text("choices").split("\n").map(function (line) { return line.trim(); })
          .filter(function (line) { return line !== ""; }),
        help: text("help"), min: text("min") || null, max: text("max") || null,
        max_length: text("max_length") || null
      };
    });
    document.getElementById("fields").value = JSON.stringify(fields);
  });
}());
