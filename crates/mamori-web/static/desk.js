// The contact desk's screen (/desk). Without this script the form posts and the page reloads.
// With it the desk works from the keyboard without reloads:
//   Ctrl+Enter (⌘+Enter) saves from anywhere in the form; the inquiry is saved as JSON, the
//   list gains its line, the form is emptied for the next call and the focus returns to the
//   question; problems are shown at their fields with the focus on the first.
//   While the question is typed, the approved FAQ entries that match are shown; one keystroke
//   (the button) puts an entry's answer into the answer field.
//   "照合" looks the caller up by e-mail or telephone (masked results) to link the inquiry.
//   The handling time is measured from the first keystroke of a call to its save.
// Questions and searches go in POST bodies with the CSRF token in a header, never in a URL.
(() => {
  "use strict";
  const form = document.querySelector("form[data-desk]");
  if (!form || !window.fetch || !window.URLSearchParams) return;
  const $ = (sel) => form.querySelector(sel);
  const csrf = () => (form.querySelector("input[name=csrf]") || {}).value || "";
  const status = document.querySelector("[data-desk-status]");
  const say = (msg) => {
    if (status) {
      status.textContent = "";
      window.setTimeout(() => { status.textContent = msg; }, 30);
    }
  };
  const post = (url, params) =>
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
        "Accept": "application/json",
        "X-CSRF-Token": csrf(),
      },
      body: params.toString(),
    });
  const incident = () => {
    const el = $("[data-desk-incident]");
    return el ? el.value : "";
  };

  // ── handling time ──
  let started = 0;
  form.addEventListener("input", () => { if (!started) started = Date.now(); });

  // ── escalation reason only when escalating ──
  const escLabel = $("[data-desk-escalation]");
  const syncOutcome = () => {
    const chosen = form.querySelector("input[name=outcome]:checked");
    if (escLabel) escLabel.hidden = !(chosen && chosen.value === "escalate");
  };
  form.querySelectorAll("input[name=outcome]").forEach((r) => r.addEventListener("change", syncOutcome));
  syncOutcome();

  // ── errors ──
  const errorsBox = $("[data-desk-errors]");
  const clearErrors = () => {
    form.querySelectorAll("[aria-invalid=true]").forEach((el) => {
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");
    });
    form.querySelectorAll(".field-error[data-js]").forEach((el) => el.remove());
    if (errorsBox) errorsBox.textContent = "";
  };
  const showErrors = (body) => {
    clearErrors();
    if (!errorsBox) return;
    const box = document.createElement("div");
    box.className = "form-errors";
    box.setAttribute("role", "alert");
    box.tabIndex = -1;
    const h = document.createElement("h2");
    h.textContent = body.heading || "";
    box.appendChild(h);
    const ul = document.createElement("ul");
    let first = null;
    (body.errors || []).forEach((e) => {
      const li = document.createElement("li");
      const target = e.id ? document.getElementById(e.id) : null;
      if (target) {
        const a = document.createElement("a");
        a.href = "#" + e.id;
        a.textContent = (e.label ? e.label + ": " : "") + e.message;
        li.appendChild(a);
        target.setAttribute("aria-invalid", "true");
        const msg = document.createElement("span");
        msg.className = "field-error";
        msg.dataset.js = "1";
        msg.id = e.id + "-error";
        msg.textContent = e.message;
        target.setAttribute("aria-describedby", msg.id);
        target.insertAdjacentElement("afterend", msg);
        if (!first) first = target;
      } else {
        li.textContent = e.message;
      }
      ul.appendChild(li);
    });
    box.appendChild(ul);
    errorsBox.appendChild(box);
    if (first && first.focus) first.focus(); else box.focus();
  };

  // ── the recent list gains the saved line ──
  const addRow = (r) => {
    const body = document.querySelector("[data-desk-recent]");
    if (!body || !r) return;
    const tr = document.createElement("tr");
    tr.setAttribute("role", "row");
    const cell = (text, cls, label) => {
      const td = document.createElement("td");
      td.setAttribute("role", "cell");
      if (cls) td.className = cls;
      if (label) td.dataset.label = label;
      if (text instanceof Node) td.appendChild(text); else td.textContent = text;
      tr.appendChild(td);
    };
    const heads = Array.from(document.querySelectorAll("[data-testid=desk-recent] th")).map((th) => th.textContent);
    const a = document.createElement("a");
    a.href = "/desk/inquiries/" + r.id;
    a.textContent = r.id;
    cell(a, "num");
    cell(r.question, "main");
    cell(r.at, "", heads[2]);
    cell(r.channel, "", heads[3]);
    cell(r.category, "", heads[4]);
    const badge = document.createElement("span");
    badge.className = "badge status-" + r.status_code;
    badge.textContent = r.status;
    cell(badge, "", heads[5]);
    body.insertBefore(tr, body.firstChild);
    const empty = document.querySelector("[data-desk-empty]");
    if (empty) empty.remove();
  };

  // ── save ──
  let saving = false;
  const save = async () => {
    if (saving) return;
    saving = true;
    const params = new URLSearchParams(new FormData(form));
    if (started) params.set("handling_secs", String(Math.round((Date.now() - started) / 1000)));
    try {
      const res = await post(form.action, params);
      let body = {};
      try { body = await res.json(); } catch (_) { body = {}; }
      if (res.ok) {
        clearErrors();
        addRow(body.row);
        say(body.message || "");
        const keep = ["csrf", "incident", "channel", "caller_type"];
        form.querySelectorAll("input, textarea, select").forEach((el) => {
          if (keep.includes(el.name)) return;
          if (el.type === "radio") {
            el.checked = el.name === "outcome" ? el.value === "close" : el.name === "person" ? el.value === "" : el.checked;
          } else if (el.tagName === "SELECT") {
            el.selectedIndex = 0;
          } else if (el.type !== "hidden" || el.name === "handling_secs") {
            el.value = "";
          }
        });
        const found = $("[data-desk-found-list]");
        if (found) found.textContent = "";
        hideSuggest();
        syncOutcome();
        started = 0;
        const q = $("[data-desk-question]");
        if (q) q.focus();
      } else if (body.errors) {
        showErrors(body);
      } else {
        showErrors({ heading: "", errors: [{ message: res.status + " " + res.statusText }] });
      }
    } catch (_) {
      showErrors({ heading: "", errors: [{ message: document.documentElement.lang === "en" ? "The server could not be reached. Nothing was saved." : "サーバーに接続できません。保存されていません。" }] });
    } finally {
      saving = false;
    }
  };
  form.addEventListener("submit", (ev) => { ev.preventDefault(); save(); });
  form.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      save();
    }
  });

  // ── FAQ entries while typing ──
  const suggestBox = $("[data-desk-suggest]");
  const suggestList = $("[data-desk-suggest-list]");
  const useLabel = ($("[data-desk-use-label]") || {}).innerHTML || "Use";
  const hideSuggest = () => {
    if (suggestBox) suggestBox.hidden = true;
    if (suggestList) suggestList.textContent = "";
  };
  let timer = 0;
  let asked = "";
  const question = $("[data-desk-question]");
  if (question && suggestBox && suggestList) {
    question.addEventListener("input", () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(async () => {
        const q = question.value.trim();
        if (q.length < 2) { hideSuggest(); return; }
        if (q === asked) return;
        asked = q;
        try {
          const res = await post("/desk/faq-suggest", new URLSearchParams({ incident: incident(), q }));
          if (!res.ok) return;
          const body = await res.json();
          suggestList.textContent = "";
          (body.hits || []).forEach((h) => {
            const li = document.createElement("li");
            const qq = document.createElement("strong");
            qq.textContent = h.question;
            const aa = document.createElement("p");
            aa.textContent = h.answer;
            const b = document.createElement("button");
            b.type = "button";
            b.textContent = useLabel;
            b.dataset.testid = "desk-use-answer";
            b.addEventListener("click", () => {
              const ans = $("[data-desk-answer]");
              if (ans) { ans.value = h.answer; ans.focus(); }
            });
            li.append(qq, aa, b);
            suggestList.appendChild(li);
          });
          suggestBox.hidden = suggestList.childElementCount === 0;
        } catch (_) { /* suggestions are a help, not a need */ }
      }, 250);
    });
  }

  // ── find the caller ──
  const findBtn = $("[data-desk-find]");
  const foundList = $("[data-desk-found-list]");
  if (findBtn && foundList) {
    findBtn.addEventListener("click", async () => {
      const contact = ($("[data-desk-contact]") || {}).value || "";
      foundList.textContent = "";
      const res = await post("/desk/find", new URLSearchParams({ incident: incident(), q: contact }));
      let body = {};
      try { body = await res.json(); } catch (_) { body = {}; }
      if (!res.ok) {
        const p = document.createElement("p");
        p.className = "field-error";
        p.textContent = ((body.errors || [])[0] || {}).message || String(res.status);
        foundList.appendChild(p);
        return;
      }
      const found = body.found || [];
      if (found.length === 0) {
        const p = document.createElement("p");
        p.className = "muted";
        p.textContent = body.none || "";
        foundList.appendChild(p);
      }
      found.forEach((m, i) => {
        const label = document.createElement("label");
        label.className = "check";
        const r = document.createElement("input");
        r.type = "radio";
        r.name = "person";
        r.value = m.link;
        if (i === 0) r.checked = true;
        label.append(r, " " + m.label + (m.affected ? " — " + m.affected : ""));
        foundList.appendChild(label);
      });
      say(found.length ? String(found.length) : (body.none || ""));
    });
  }
})();
