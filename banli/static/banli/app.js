// Banli: the little behaviour that htmx does not cover. No inline scripts (the CSP forbids them).
(function () {
  "use strict";
  function chosenBody() { return document.querySelector("#chosen-units tbody"); }
  function refreshEmpty() {
    var body = chosenBody(), hint = document.getElementById("chosen-empty");
    if (body && hint) hint.hidden = body.children.length > 0;
  }
  function hasLead(body, except) {
    return Array.prototype.some.call(body.querySelectorAll("select"), function (s) {
      return s.value === "lead" && s.closest("tr") !== except;
    });
  }
  // Put a unit into the list of this assignment (or change its role if it is there); "lead" demotes any other lead.
  function chooseUnit(id, name, role) {
    var body = chosenBody();
    if (!body) return;
    var row = body.querySelector('tr[data-unit="' + id + '"]');
    if (!row) {
      var template = document.getElementById("chosen-unit-template");
      row = template.content.querySelector("tr").cloneNode(true);
      row.dataset.unit = id;
      row.querySelector("input[name=unit]").value = id;
      row.querySelector(".unit-name").textContent = name;
      row.querySelector("select").name = "role_" + id;
      body.appendChild(row);
    }
    var select = row.querySelector("select");
    if (role === "lead") {
      body.querySelectorAll("select").forEach(function (s) { if (s !== select && s.value === "lead") s.value = "co"; });
      select.value = "lead";
    } else if (role) {
      select.value = role;
    } else {
      // Once a lead is chosen the next units co-handle; before that the office picks the role itself
      // (the first unit is never made the lead silently).
      select.value = hasLead(body, row) ? "co" : "";
    }
    refreshEmpty();
  }
  document.addEventListener("click", function (event) {
    var pick = event.target.closest(".pick-unit");
    if (pick) {
      // A new search keeps earlier choices.
      var body = chosenBody();
      if (body && !body.querySelector('tr[data-unit="' + pick.dataset.unitId + '"]')) {
        chooseUnit(pick.dataset.unitId, pick.dataset.unitName, "");
      }
      pick.remove();
      return;
    }
    var take = event.target.closest(".take-unit");
    if (take) { chooseUnit(take.dataset.unitId, take.dataset.unitName, take.dataset.role); return; }
    var all = event.target.closest(".take-suggestion");
    if (all) {
      // One click takes the suggestion as it stands: the first lead and every co unit, replacing earlier choices.
      var box = all.closest(".assist-routing"), rows = chosenBody();
      if (rows) rows.innerHTML = "";
      var lead = box.querySelector(".take-unit[data-role=lead]");
      if (lead) chooseUnit(lead.dataset.unitId, lead.dataset.unitName, "lead");
      box.querySelectorAll(".take-unit[data-role=co]").forEach(function (b) {
        if (!lead || b.dataset.unitId !== lead.dataset.unitId) chooseUnit(b.dataset.unitId, b.dataset.unitName, "co");
      });
      return;
    }
    var apply = event.target.closest(".apply-category");
    if (apply) {
      var field = document.getElementById(apply.dataset.target);
      if (field) { field.value = apply.dataset.value; field.dispatchEvent(new Event("change", { bubbles: true })); }
      return;
    }
    var remove = event.target.closest(".remove-unit");
    if (remove) { remove.closest("tr").remove(); refreshEmpty(); }
  });
  // Smart-assist panels are advice: if one cannot be loaded, say so quietly instead of leaving a spinner.
  function quiet(event) {
    var slot = event.detail && event.detail.elt && event.detail.elt.closest(".assist-slot");
    if (!slot) return;
    var note = document.createElement("p");
    note.className = "small text-body-secondary mb-0 assist-quiet";
    note.textContent = "智能辅助暂时无法使用，不影响办理。";
    slot.replaceChildren(note);
  }
  document.addEventListener("htmx:responseError", quiet);
  document.addEventListener("htmx:sendError", quiet);
  // A field that only matters for some values of another (不公开理由 unless 全文公开, 公开摘要 for 摘要公开):
  // data-show-when="<field>:<value>,<value>" on the input hides its block otherwise.
  function showWhen(root) {
    (root || document).querySelectorAll("[data-show-when]").forEach(function (input) {
      var spec = input.dataset.showWhen.split(":"), form = input.form;
      var control = form && form.querySelector('[name="' + spec[0] + '"], [name$="-' + spec[0] + '"]');
      var block = input.closest(".mb-2") || input;
      if (control) block.hidden = spec[1].split(",").indexOf(control.value) < 0;
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.form && event.target.form.querySelector("[data-show-when]")) showWhen(event.target.form);
    // A session menu sets the kind its body receives (人大: 建议, 政协: 提案); the clerk may still change it.
    var target = event.target.dataset && event.target.dataset.kindTarget;
    if (target && event.target.form) {
      var option = event.target.selectedOptions[0], kind = event.target.form.querySelector('[name="' + target + '"]');
      if (option && option.dataset.kind && kind) kind.value = option.dataset.kind;
    }
  });
  document.addEventListener("htmx:afterSettle", function (event) { showWhen(event.target); });
  document.addEventListener("DOMContentLoaded", function () { refreshEmpty(); showWhen(document); });
})();
