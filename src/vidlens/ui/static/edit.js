// Edit page: queue an edit through the API; follow a running job; click the timeline to seek the output.
"use strict";

function setupEditForm() {
  const form = document.getElementById("edit-form");
  if (!form) return;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    const body = {video_id: f.get("video_id")};
    if (f.get("silence")) body.silence = {};
    if (f.get("highlights_s")) body.highlights_s = Number(f.get("highlights_s"));
    for (const k of ["reframe", "subtitles", "dub"]) if (f.get(k)) body[k] = f.get(k);
    if (f.get("lip_sync")) body.lip_sync = true;
    const status = document.getElementById("edit-status");
    const r = await fetch("/api/edits", {method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrfToken()}});
    const out = await r.json().catch(() => ({}));
    if (r.status === 202) window.location.href = out.page_url;
    else { status.textContent = (out.error && out.error.message) || ("HTTP " + r.status); status.className = "error"; }
  });
}

function followJob() {
  const state = document.getElementById("edit-state");
  if (!state || ["succeeded", "partial", "failed", "cancelled"].includes(state.dataset.status)) return;
  const bar = document.getElementById("edit-progress");
  const tick = async () => {
    const job = await fetchJSON("/api/edits/" + state.dataset.job);
    if (bar) bar.value = job.progress;
    if (job.status !== state.dataset.status && ["succeeded", "partial", "failed", "cancelled"].includes(job.status)) {
      window.location.reload();
      return;
    }
    setTimeout(tick, 1500);
  };
  setTimeout(tick, 1500);
}

function setupSeek() {
  const player = document.getElementById("player");
  if (!player) return;
  document.querySelectorAll(".seg[data-out]").forEach((b) =>
    b.addEventListener("click", () => { player.currentTime = Number(b.dataset.out); player.play(); }));
}

document.addEventListener("DOMContentLoaded", () => { setupEditForm(); followJob(); setupSeek(); });
