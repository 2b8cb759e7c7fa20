// Presenter job page: follow the queued render, then reload to the video (the server redirects when it is made).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const state = document.getElementById("presenter-state");
  const ended = ["succeeded", "partial", "failed", "cancelled"];
  if (!state || ended.includes(state.dataset.status)) return;
  const bar = document.getElementById("presenter-progress");
  const stage = document.getElementById("presenter-stage");
  const tick = async () => {
    try {
      const job = await fetchJSON("/api/jobs/" + state.dataset.job);
      if (bar) bar.value = job.progress;
      if (stage && job.progress_message) stage.textContent = job.progress_message;
      if (ended.includes(job.status)) { window.location.reload(); return; }
    } catch (e) { /* try again */ }
    setTimeout(tick, 1500);
  };
  setTimeout(tick, 1500);
});
