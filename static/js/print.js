/* The "Print" button of the printable summary: shown only when JavaScript runs (the browser's own print
   command always works); served from 'self', as the CSP allows no inline script. */
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
