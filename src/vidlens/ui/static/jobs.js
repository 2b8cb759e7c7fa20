// Jobs page: poll the JSON API and update status, progress and errors in place.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const table = document.querySelector("#jobs tbody");
  if (!table) return;
  const poll = async () => {
    try {
      const data = await fetchJSON("/api/jobs?limit=100");
      const known = new Set(Array.from(table.querySelectorAll("tr")).map((r) => r.dataset.job));
      if (data.jobs.some((j) => !known.has(String(j.id)))) { window.location.reload(); return; }
      for (const j of data.jobs) {
        const row = table.querySelector('tr[data-job="' + j.id + '"]');
        if (!row) continue;
        const st = row.querySelector(".status");
        st.textContent = j.status;
        st.className = "status state state-" + j.status;
        row.querySelector("progress").value = j.progress;
        row.querySelector(".pct").textContent = Math.round(j.progress * 100) + "%";
        row.querySelector(".attempts").textContent = j.attempts + "/" + j.max_attempts;
        row.querySelector(".err").textContent = j.error_message || "";
      }
    } catch (e) { /* try again */ }
    setTimeout(poll, 1000);
  };
  setTimeout(poll, 1000);
});
