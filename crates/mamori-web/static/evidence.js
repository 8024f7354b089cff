// The leaked-files page (/incidents/{id}/files). Without this script the plain multipart form
// works as it is. With it: the upload shows its progress (XMLHttpRequest, the CSRF token in the
// X-CSRF-Token header), and the scan progress of the files is polled from a small JSON
// endpoint that holds states and counts only (no names, no values).
(() => {
  "use strict";
  const upload = () => {
    const form = document.querySelector("form[data-evidence-upload]");
    if (!form || !window.XMLHttpRequest || !window.FormData) return;
    const status = form.querySelector("[data-evidence-status]");
    const bar = form.querySelector("[data-evidence-bar]");
    const pct = form.querySelector("[data-evidence-percent]");
    form.addEventListener("submit", (ev) => {
      const input = form.querySelector("input[type=file]");
      if (!input || !input.files || input.files.length === 0) return; // the server says what is missing
      ev.preventDefault();
      const data = new FormData(form);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-CSRF-Token", data.get("csrf") || "");
      xhr.setRequestHeader("Accept", "application/json");
      if (status) status.hidden = false;
      xhr.upload.addEventListener("progress", (e) => {
        if (!e.lengthComputable) return;
        const p = Math.floor((e.loaded * 100) / e.total);
        if (bar) bar.value = p;
        if (pct) pct.textContent = p + "%";
      });
      const done = () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          window.location.reload();
          return;
        }
        // The server's message (the limit, the token, the permission) in the page's language.
        if (bar) bar.value = 0;
        let msg = "";
        try {
          const body = JSON.parse(xhr.responseText);
          msg = body.message || body.error || "";
        } catch (_) {
          msg = "";
        }
        if (pct) pct.textContent = msg;
        if (status && msg) status.hidden = false;
      };
      xhr.addEventListener("load", done);
      xhr.addEventListener("error", done);
      xhr.send(data);
    });
  };

  const poll = () => {
    const table = document.querySelector("[data-evidence-poll]");
    if (!table) return;
    const url = table.getAttribute("data-evidence-poll");
    const tick = () => {
      const busy = table.querySelector("progress[data-progress]");
      if (!busy) return;
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : []))
        .then((files) => {
          let changed = false;
          files.forEach((f) => {
            const row = table.querySelector('tr[data-file="' + f.id + '"]');
            if (!row) return;
            const bar = row.querySelector("progress[data-progress]");
            if (bar) bar.value = f.bytes_done;
            const rows = row.querySelector("[data-rows]");
            if (rows) rows.textContent = String(f.rows_found);
            const matched = row.querySelector("[data-matched]");
            if (matched) matched.textContent = String(f.rows_matched);
            if (bar && (f.state === "done" || f.state === "failed")) changed = true;
          });
          if (changed) window.location.reload();
          else window.setTimeout(tick, 2000);
        })
        .catch(() => window.setTimeout(tick, 5000));
    };
    window.setTimeout(tick, 2000);
  };

  document.addEventListener("DOMContentLoaded", () => {
    upload();
    poll();
  });
})();
