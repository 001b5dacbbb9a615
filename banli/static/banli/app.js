// Banli: the little behaviour that htmx does not cover. No inline scripts (the CSP forbids them).
(function () {
  "use strict";
  function chosenBody() { return document.querySelector("#chosen-units tbody"); }
  function refreshEmpty() {
    var body = chosenBody(), hint = document.getElementById("chosen-empty");
    if (body && hint) hint.hidden = body.children.length > 0;
  }
  document.addEventListener("click", function (event) {
    var pick = event.target.closest(".pick-unit");
    if (pick) {
      // Move the picked unit into the list of this assignment; a new search keeps earlier choices.
      var body = chosenBody(), id = pick.dataset.unitId;
      if (body && !body.querySelector('tr[data-unit="' + id + '"]')) {
        var template = document.getElementById("chosen-unit-template");
        var row = template.content.querySelector("tr").cloneNode(true);
        row.dataset.unit = id;
        row.querySelector("input[name=unit]").value = id;
        row.querySelector(".unit-name").textContent = pick.dataset.unitName;
        var select = row.querySelector("select");
        select.name = "role_" + id;
        // The first unit chosen is the lead unless a lead is already there.
        var hasLead = Array.prototype.some.call(body.querySelectorAll("select"), function (s) { return s.value === "lead"; });
        select.value = hasLead ? "co" : "lead";
        body.appendChild(row);
      }
      pick.remove();
      refreshEmpty();
      return;
    }
    var remove = event.target.closest(".remove-unit");
    if (remove) { remove.closest("tr").remove(); refreshEmpty(); }
  });
  document.addEventListener("DOMContentLoaded", refreshEmpty);
})();
