/* "Sync now" with live progress: posts the form, then polls the connection's JSON status until the run ends.
   Served from 'self' (the CSP allows no inline script); without JavaScript the form posts and the page reloads. */
(function () {
  "use strict";
  var POLL_MS = 1500;

  function describe(box, run) {
    var label = box.querySelector("[data-sync-status-label]");
    var counts = box.querySelector("[data-sync-status-counts]");
    if (label && run.status_label) { label.textContent = run.status_label; }
    if (counts && run.status && box.dataset.countsTemplate) {
      counts.textContent = box.dataset.countsTemplate
        .replace("{created}", run.created)
        .replace("{updated}", run.updated)
        .replace("{unchanged}", run.unchanged)
        .replace("{rejected}", run.rejected)
        .replace("{deleted}", run.deleted);
    }
  }

  function poll(box, button) {
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (run) {
        if (!run) { return; }
        describe(box, run);
        if (run.in_progress) {
          window.setTimeout(function () { poll(box, button); }, POLL_MS);
        } else if (button) {
          button.disabled = false;
          if (run.status === "succeeded") { window.location.reload(); }
        }
      });
  }

  document.querySelectorAll("tr").forEach(function (row) {
    var box = row.querySelector("[data-sync-status]");
    var form = row.querySelector("[data-sync-form]");
    if (!box) { return; }
    var button = form ? form.querySelector("button") : null;
    if (box.dataset.inProgress === "true") { poll(box, button); }
    if (!form) { return; }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (button) { button.disabled = true; }
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin"
      }).then(function (response) { return response.json(); })
        .then(function (run) { describe(box, run); poll(box, button); })
        .catch(function () { form.submit(); });
    });
  });
})();
