// The vault pages. A page left open must stop showing revealed values when the grant it was
// opened under expires: the server refuses every later request anyway (each one re-reads the
// grant), and this blanks what is already on the screen and disables the buttons.
(() => {
  "use strict";
  const expire = (box) => {
    document.querySelectorAll(".revealed").forEach((el) => {
      el.textContent = "—";
      el.classList.remove("revealed");
      el.classList.add("masked", "expired");
    });
    document.querySelectorAll(".reveal-btn").forEach((b) => {
      b.disabled = true;
    });
    const note = box && box.querySelector(".vault-expired");
    if (note) note.hidden = false;
  };

  const watch = () => {
    const box = document.querySelector(".vault-access[data-expires-in-ms]");
    if (!box) return;
    const ms = Number(box.dataset.expiresInMs);
    if (!Number.isFinite(ms)) return;
    // The server said how long is left when it rendered the page; counting from then keeps a
    // wrong clock on this computer from extending the grant.
    const deadline = Date.now() + ms;
    const tick = () => {
      if (Date.now() >= deadline) {
        expire(box);
        return true;
      }
      return false;
    };
    if (tick()) return;
    const timer = setInterval(() => {
      if (tick()) clearInterval(timer);
    }, 1000);
  };

  // A refused reveal (expired or revoked grant) says so instead of doing nothing.
  document.addEventListener("htmx:responseError", (e) => {
    const status = e.detail && e.detail.xhr ? e.detail.xhr.status : 0;
    const box = document.querySelector(".vault-access");
    if (status === 401 || status === 403) expire(box);
  });

  // The grant form shows the fields of the chosen dataset only.
  const fields = () => {
    const select = document.querySelector("select.grant-dataset");
    if (!select) return;
    const show = () => {
      document.querySelectorAll(".grant-fields").forEach((fs) => {
        fs.hidden = fs.dataset.dataset !== select.value;
      });
    };
    select.addEventListener("change", show);
    show();
  };

  document.addEventListener("DOMContentLoaded", () => {
    watch();
    fields();
  });
})();
