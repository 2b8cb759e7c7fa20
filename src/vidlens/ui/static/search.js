// Search page: place each video's moments on its timeline; a click plays the moment (start to end) in the
// player above the results, from a browser-playable proxy when the original cannot play. A camera event
// plays its clip (an MP4 cut with pre- and post-roll) whole.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const v of document.querySelectorAll(".hit-video")) {
    const duration = parseFloat(v.dataset.duration) || 1;
    for (const seg of v.querySelectorAll(".timeline .seg")) {
      const start = parseFloat(seg.dataset.start), end = parseFloat(seg.dataset.end);
      seg.style.left = (100 * start / duration) + "%";
      seg.style.width = Math.max(0.6, 100 * (end - start) / duration) + "%";
    }
  }
  const box = document.getElementById("moment-player");
  const player = document.getElementById("search-player");
  const status = document.getElementById("playing-status");
  if (!player) return;
  let end = null, wanted = 0;

  player.addEventListener("timeupdate", () => {
    if (end !== null && player.currentTime >= end) {
      player.pause();
      end = null;
    }
  });
  player.addEventListener("loadedmetadata", () => {
    player.currentTime = wanted;
    player.play().catch(() => { /* autoplay refused: the controls are there */ });
  });

  async function source(url) {
    for (;;) {
      const p = await fetchJSON(url);
      if (p.url) return p.url;
      if (p.status === "failed" || p.status === "unavailable") throw new Error(p.error || p.status);
      status.textContent = "making a playable copy… " + Math.round(100 * (p.progress || 0)) + "%";
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  async function play(btn) {
    for (const b of document.querySelectorAll(".moment.playing")) b.classList.remove("playing");
    btn.classList.add("playing");
    box.hidden = false;
    const start = parseFloat(btn.dataset.start), clip = btn.dataset.clip;
    document.getElementById("playing-link").textContent = btn.dataset.path;
    document.getElementById("playing-link").href = btn.dataset.link || ("/videos/" + btn.dataset.video + "?t=" + start);
    document.getElementById("playing-span").textContent = fmtTime(start) + " – " + fmtTime(parseFloat(btn.dataset.end));
    status.textContent = "";
    wanted = clip ? 0 : start;
    end = clip ? null : Math.max(parseFloat(btn.dataset.end), start + 1);
    try {
      const url = clip || await source(btn.dataset.playback);
      status.textContent = "";
      if (player.dataset.src === url) {
        player.currentTime = wanted;
        player.play().catch(() => {});
      } else {
        player.dataset.src = url;
        player.src = url;
      }
      player.dataset.video = btn.dataset.video || "";
    } catch (e) {
      status.textContent = "this video cannot be played here: " + e.message;
    }
  }
  for (const btn of document.querySelectorAll(".moment")) btn.addEventListener("click", () => play(btn));
});

function fmtTime(t) {
  const m = Math.floor(t / 60), s = t % 60;
  return m + ":" + s.toFixed(1).padStart(4, "0");
}
