// Proof-of-work for the public forms of an incident (mamori_domain::abuse::pow). When the
// server is under load it renders a form with data-pow="<token>" and data-pow-bits="<n>"; on
// submit this script finds the smallest decimal number s (0, 1, 2, ...) such that
// SHA-256(token ":" s) starts with n zero bits, puts s in the hidden input name="pow", and
// sends the form. The bytes hashed are the token's UTF-8 bytes, one ":" and the ASCII digits
// of s: exactly what the server hashes.
//
// Without this script, without data-pow, or without crypto.subtle (a page opened over plain
// http on another host than localhost) the form is sent as it is, and the server answers with
// a message saying what is missing. No inline script (CSP script-src 'self'), no dependencies.
(() => {
  "use strict";

  const BATCH = 1024; // hashes started at once (~10 ms); between batches the page stays responsive
  const MAX_BITS = 32; // what the server ever asks (abuse::pow::MAX_BITS)
  const WAIT_JA = "送信の準備をしています…";
  const encoder = new TextEncoder();

  // Leading zero bits of a digest, most significant bit of each byte first (as the server).
  const zeroBits = (bytes) => {
    let n = 0;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (b === 0) {
        n += 8;
        continue;
      }
      return n + Math.clz32(b) - 24;
    }
    return n;
  };

  const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));

  // The smallest counter that solves the challenge, as its decimal string.
  const solve = async (subtle, token, bits) => {
    const prefix = encoder.encode(token + ":");
    for (let start = 0; start <= Number.MAX_SAFE_INTEGER - BATCH; start += BATCH) {
      const jobs = [];
      for (let i = 0; i < BATCH; i++) {
        const digits = encoder.encode(String(start + i));
        const data = new Uint8Array(prefix.length + digits.length);
        data.set(prefix, 0);
        data.set(digits, prefix.length);
        jobs.push(subtle.digest("SHA-256", data));
      }
      const digests = await Promise.all(jobs);
      for (let i = 0; i < digests.length; i++) {
        if (zeroBits(new Uint8Array(digests[i])) >= bits) return String(start + i);
      }
      await nextTask();
    }
    throw new Error("no solution");
  };

  // The hidden input for the solution (the template has one; made if it is missing).
  const powInput = (form) => {
    let input = form.querySelector('input[name="pow"]');
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = "pow";
      form.appendChild(input);
    }
    return input;
  };

  // form.submit() does not send the button that was pressed; keep its name and value.
  const keepSubmitter = (form, submitter) => {
    if (!submitter || !submitter.name) return;
    const old = form.querySelector("input[data-pow-submitter]");
    if (old) old.remove();
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = submitter.name;
    input.value = submitter.value || "";
    input.setAttribute("data-pow-submitter", "");
    form.appendChild(input);
  };

  const buttons = (form) =>
    form.querySelectorAll('button[type="submit"], button:not([type]), input[type="submit"]');

  const busy = new WeakSet();

  document.addEventListener("submit", (ev) => {
    const form = ev.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-pow")) return;
    const token = form.getAttribute("data-pow") || "";
    // data-pow-bits, or else the bits the token itself carries (v1.<expires>.<bits>.…).
    const bitsText = form.getAttribute("data-pow-bits") ?? token.split(".")[2] ?? "";
    const bits = /^[0-9]{1,2}$/.test(bitsText) ? Number(bitsText) : NaN;
    const subtle = window.crypto && window.crypto.subtle;
    // Nothing to solve, a bits value we do not understand, or no crypto.subtle: send as it is.
    if (!token || !Number.isInteger(bits) || bits < 0 || bits > MAX_BITS || !subtle) return;
    ev.preventDefault();
    if (busy.has(form)) return; // a second click while working
    busy.add(form);

    const status = form.querySelector("[data-pow-status]");
    if (status) {
      status.textContent =
        form.getAttribute("data-pow-wait") || status.getAttribute("data-pow-wait") || WAIT_JA;
      if (!status.hasAttribute("aria-live")) status.setAttribute("aria-live", "polite");
      status.hidden = false;
    }
    const pressed = buttons(form);
    pressed.forEach((b) => {
      b.disabled = true;
    });
    keepSubmitter(form, ev.submitter);

    // The buttons stay disabled while the next page loads: a second click would send the same
    // challenge again, which the server refuses as already used.
    const send = (solution) => {
      powInput(form).value = solution;
      form.submit();
    };
    // A failure of the browser's crypto sends the form without a solution: the server's
    // answer then says what to do, instead of a form that silently does nothing.
    solve(subtle, token, bits).then(send, () => send(""));
  });

  // Back to the page from the browser's cache after sending: the form works again.
  window.addEventListener("pageshow", (ev) => {
    if (!ev.persisted) return;
    document.querySelectorAll("form[data-pow]").forEach((form) => {
      busy.delete(form);
      buttons(form).forEach((b) => {
        b.disabled = false;
      });
      const status = form.querySelector("[data-pow-status]");
      if (status) status.textContent = "";
    });
  });
})();
