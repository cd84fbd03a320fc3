// The scheme form: a criterion's section and the tie-break keys are chosen by name from the
// sections and criteria typed in the tables above, at once (the server offers the same after
// a save; without this script, after the first one). A value chosen stays chosen.
(function () {
  "use strict";
  var form = document.querySelector("form.scheme-form");
  if (!form) { return; }

  function rows(prefix) {
    var found = [];
    Array.prototype.forEach.call(form.querySelectorAll("input[name^='" + prefix + "-'][name$='-code']"),
      function (code) {
        var value = code.value.trim();
        if (!value) { return; }
        var name = form.querySelector("[name='" + code.name.replace(/-code$/, "-name") + "']");
        found.push({ code: value, name: name ? name.value.trim() : "" });
      });
    return found;
  }

  function refill(select, options) {
    var chosen = select.value;
    var labels = {};
    options.forEach(function (option) { labels[option[0]] = option[1]; });
    if (chosen && !(chosen in labels)) { options.push([chosen, chosen]); }
    select.textContent = "";
    options.forEach(function (option) {
      var element = document.createElement("option");
      element.value = option[0];
      element.textContent = option[1];
      element.selected = option[0] === chosen;
      select.appendChild(element);
    });
  }

  var words = form.dataset;
  function offer() {
    var sections = rows("section"), criteria = rows("criterion");
    Array.prototype.forEach.call(form.querySelectorAll("select[name^='criterion-'][name$='-section']"),
      function (select) {
        if (select.disabled) { return; }
        refill(select, [["", "—"]].concat(sections.map(function (s) {
          return [s.code, s.name && s.name !== s.code ? s.name + " (" + s.code + ")" : s.code];
        })));
      });
    Array.prototype.forEach.call(form.querySelectorAll("select[data-choices='tie-break']"),
      function (select) {
        if (select.disabled) { return; }
        refill(select, [["", "—"], ["time", words.time]].concat(
          sections.map(function (s) { return ["section:" + s.code, words.section.replace("%s", s.name || s.code)]; }),
          criteria.map(function (c) { return ["criterion:" + c.code, words.criterion.replace("%s", (c.code + " " + c.name).trim())]; })));
      });
  }

  form.addEventListener("change", function (event) {
    if (/^(section|criterion)-\d+-(code|name)$/.test(event.target.name || "")) { offer(); }
  });
}());
