/* Progress of a background export: polls each unfinished job's JSON status and reloads the page when one
   is ready, so its download button appears. Served from 'self' (no inline script); without JavaScript
   the page shows the same state on a refresh. */
(function () {
  "use strict";
  var POLL_MS = 2000;

  function show(box, job) {
    var label = box.querySelector("[data-export-status-label]");
    var bar = box.querySelector("[data-export-progress]");
    var counts = box.querySelector("[data-export-counts]");
    if (label && job.status_label) { label.textContent = job.status_label; }
    if (bar) { bar.value = job.percent; bar.textContent = job.percent + "%"; }
    if (counts) { counts.textContent = job.done + " / " + job.total; }
  }

  function poll(box) {
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (job) {
        if (!job) { return; }
        show(box, job);
        if (job.in_progress) {
          window.setTimeout(function () { poll(box); }, POLL_MS);
        } else {
          window.location.reload();
        }
      });
  }

  document.querySelectorAll("[data-export-status]").forEach(function (box) {
    if (box.dataset.inProgress === "true") { poll(box); }
  });
})();
