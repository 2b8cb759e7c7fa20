// Video page: place insight segments, seek the player on click, draw boxes at the current time,
// wait for a browser-playable proxy, poll analysis.
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
  const items = Array.from(document.querySelectorAll("#insights .seg"));
  const boxed = items.filter((el) => el.dataset.box);
  const stage = document.getElementById("stage");
  const overlay = document.getElementById("overlay");
  const showBoxes = document.getElementById("show-boxes");
  const srcW = parseFloat(stage.dataset.width) || 0, srcH = parseFloat(stage.dataset.height) || 0;

  // boxes are in pixels of the original picture; the picture is letterboxed inside the element
  function drawBoxes(t) {
    overlay.replaceChildren();
    if (!showBoxes.checked || !srcW || !srcH || !player.videoWidth) return;
    const ew = player.clientWidth, eh = player.clientHeight;
    const scale = Math.min(ew / srcW, eh / srcH);
    const ox = (ew - srcW * scale) / 2, oy = (eh - srcH * scale) / 2;
    for (const el of boxed) {
      if (t < parseFloat(el.dataset.start) || t > parseFloat(el.dataset.end)) continue;
      const [x1, y1, x2, y2] = el.dataset.box.split(",").map(parseFloat);
      const b = document.createElement("div");
      b.className = "box box-" + el.dataset.group;
      b.style.left = (ox + x1 * scale) + "px";
      b.style.top = (oy + y1 * scale) + "px";
      b.style.width = ((x2 - x1) * scale) + "px";
      b.style.height = ((y2 - y1) * scale) + "px";
      const tag = document.createElement("span");
      tag.textContent = el.dataset.label;
      b.appendChild(tag);
      overlay.appendChild(b);
    }
  }

  function follow() {
    const t = player.currentTime;
    document.getElementById("now").textContent = fmt(t);
    for (const s of shots) {
      s.classList.toggle("active", t >= parseFloat(s.dataset.start) && t < parseFloat(s.dataset.end));
    }
    for (const s of items) {
      s.classList.toggle("active", t >= parseFloat(s.dataset.start) && t <= parseFloat(s.dataset.end));
    }
    drawBoxes(t);
  }
  player.addEventListener("timeupdate", follow);
  player.addEventListener("seeked", follow);
  player.addEventListener("loadeddata", follow);
  showBoxes.addEventListener("change", follow);
  window.addEventListener("resize", follow);

  // a file browsers cannot demux: wait for its proxy, then load it
  const proxyPending = document.getElementById("proxy-pending");
  if (proxyPending) {
    const bar = document.getElementById("proxy-progress");
    const poll = async () => {
      try {
        const p = await fetchJSON(player.dataset.playback);
        if (p.url) {
          player.src = p.url;
          proxyPending.remove();
          return;
        }
        if (p.status === "failed" || p.status === "unavailable") {
          proxyPending.textContent = "No playable copy could be made: " + (p.error || p.status);
          proxyPending.className = "error";
          return;
        }
        bar.value = p.progress || 0;
      } catch (e) { /* try again */ }
      setTimeout(poll, 1000);
    };
    setTimeout(poll, 500);
  }

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
        const open = v.jobs.filter((j) => j.kind === "analyze" && (j.status === "queued" || j.status === "running"));
        if (!open.length) { window.location.reload(); return; }
        bar.value = open[0].progress;
      } catch (e) { /* try again */ }
      setTimeout(poll, 1000);
    };
    setTimeout(poll, 1000);
  }
});
