// Shared helpers and the library page's upload (XHR for a progress bar; CSRF token in a header).
"use strict";

function csrfToken() {
  const m = document.querySelector('meta[name="csrf-token"]');
  return m ? m.content : "";
}

async function fetchJSON(url) {
  const r = await fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"});
  if (!r.ok) throw new Error(url + ": " + r.status);
  return r.json();
}

function setupUpload() {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const input = document.getElementById("upload-file");
  const bar = document.getElementById("upload-progress");
  const status = document.getElementById("upload-status");
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (!input.files.length) return;
    const data = new FormData();
    data.append("file", input.files[0]);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/videos");
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    bar.hidden = false;
    status.textContent = "uploading…";
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = e.loaded / e.total; };
    xhr.onload = () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      if (xhr.status === 201 && body.video_id) {
        window.location.href = "/videos/" + encodeURIComponent(body.video_id);
      } else {
        status.textContent = (body.error && body.error.message) || ("upload failed: HTTP " + xhr.status);
        status.className = "error";
      }
    };
    xhr.onerror = () => { status.textContent = "upload failed: network error"; status.className = "error"; };
    xhr.send(data);
  });
}

document.addEventListener("DOMContentLoaded", setupUpload);
