/* My choices: shows the disease list only while "only research on diseases I choose" is picked, and marks
   the preview of the option a person picks. Served from 'self' (the CSP allows no inline script); without
   JavaScript every list and preview is simply shown. */
(function () {
  "use strict";

  var diseases = document.querySelector("[data-diseases]");
  var permissions = document.querySelectorAll("[data-permission]");
  if (diseases && permissions.length) {
    var sync = function () {
      var chosen = document.querySelector("[data-permission]:checked");
      diseases.hidden = !chosen || chosen.value !== "DS";
    };
    permissions.forEach(function (input) { input.addEventListener("change", sync); });
    sync();
  }

  document.querySelectorAll("[data-choice-preview]").forEach(function (form) {
    var mark = function () {
      form.querySelectorAll(".choice-option").forEach(function (option) {
        var input = option.querySelector("input[type=radio]");
        option.classList.toggle("choice-option--chosen", !!(input && input.checked));
      });
    };
    form.addEventListener("change", mark);
    mark();
  });
})();
