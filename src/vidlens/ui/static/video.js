// Video page: place timeline segments, seek the player on click, follow playback, poll analysis.
"use strict";

function fmt(t) {
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), s = t % 60;
  return h + ":" + String(m).padStart(2, "0") + ":" + s.toFixed(3).padStart(6, "0");
}

document.addEventListener("DOMContentLoaded", () => {
  const player = document.getElementById("player");
  if (!player) return;
  const duration = parseFloat(player.dataset.duration) || 1;

  for (const seg of document.querySelectorAll(".track .seg")) {
    const start = parseFloat(seg.dataset.start), end = parseFloat(seg.dataset.end);
    seg.style.left = (100 * start / duration) + "%";
    seg.style.width = Math.max(0.3, 100 * (end - start) / duration) + "%";
  }

  function seek(t) {
    player.currentTime = t;
    document.getElementById("now").textContent = fmt(t);
  }
  for (const el of document.querySelectorAll("[data-start]")) {
    if (el === player) continue;
    el.addEventListener("click", () => seek(parseFloat(el.dataset.start)));
  }

  const shots = Array.from(document.querySelectorAll(".shot, #shot-bar .seg"));
  player.addEventListener("timeupdate", () => {
    const t = player.currentTime;
    document.getElementById("now").textContent = fmt(t);
    for (const s of shots) {
      s.classList.toggle("active", t >= parseFloat(s.dataset.start) && t < parseFloat(s.dataset.end));
    }
  });

  const t0 = parseFloat(new URLSearchParams(window.location.search).get("t"));
  if (!Number.isNaN(t0)) {
    player.addEventListener("loadedmetadata", () => seek(t0), {once: true});
  }

  const pending = document.getElementById("analysis-pending");
  if (pending) {
    const bar = document.getElementById("analysis-progress");
    const poll = async () => {
      try {
        const v = await fetchJSON("/api/videos/" + encodeURIComponent(pending.dataset.video));
        const open = v.jobs.filter((j) => j.status === "queued" || j.status === "running");
        if (!open.length) { window.location.reload(); return; }
        bar.value = open[0].progress;
      } catch (e) { /* try again */ }
      setTimeout(poll, 1000);
    };
    setTimeout(poll, 1000);
  }
});
