// Cluster sheet: keyboard-only selection over a grid of glitches, one label for the rest.
// Arrows move the focus ring, space toggles the glitch, a class key picks the label,
// enter submits (the form posts to the server: no client-side state survives a reload).
const grid = document.getElementById("sheet-grid");
const form = document.getElementById("sheet-form");
const cells = [...grid.querySelectorAll(".sheet-cell")];
const count = document.getElementById("sheet-count");
const newClass = document.getElementById("new-class");
let focus = 0;

function columns() {
  const top = cells[0].offsetTop;
  const n = cells.findIndex((c) => c.offsetTop !== top);
  return n === -1 ? cells.length : n;
}

function show() {
  cells.forEach((cell, i) => {
    const on = cell.querySelector("input").checked;
    cell.classList.toggle("off", !on);
    cell.classList.toggle("focus", i === focus);
  });
  count.textContent = cells.filter((c) => c.querySelector("input").checked).length;
  cells[focus].scrollIntoView({ block: "nearest" });
}

function chooseNew(on) {
  newClass.hidden = !on;
  newClass.querySelector("#new_name").required = on;
  newClass.querySelector("#new_description").required = on;
  if (on) newClass.querySelector("#new_name").focus();
}

// One post per sheet: a second enter or click while the first is on its way would post the
// same batch again. A post the user stopped (Esc) frees the form at once; one stopped with
// the browser's Stop button (no event tells the page) frees it after RESEND_AFTER_MS. A
// resend after that is safe: the server keeps the first submit of a batch.
const RESEND_AFTER_MS = 8000;
form.addEventListener("submit", (e) => {
  const sentAt = Number(form.dataset.sent || 0);
  if (sentAt && Date.now() - sentAt < RESEND_AFTER_MS) e.preventDefault();
  else form.dataset.sent = String(Date.now());
});
window.addEventListener("pageshow", () => delete form.dataset.sent); // back to the page: live again

form.addEventListener("change", (e) => {
  if (e.target.name === "choice") chooseNew(e.target.value === "new");
  show();
});

cells.forEach((cell, i) => cell.addEventListener("click", () => { focus = i; setTimeout(show); }));

document.addEventListener("keydown", (e) => {
  if (e.key === "Escape") delete form.dataset.sent; // Esc stops the page loading: send again
  const typing = e.target.matches("input[type=text], input:not([type]), textarea");
  if (typing) return; // the new class's name and description take keys as text
  const step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -columns(), ArrowDown: columns() }[e.key];
  if (step !== undefined) {
    focus = Math.min(cells.length - 1, Math.max(0, focus + step));
    show();
    e.preventDefault();
  } else if (e.key === " ") {
    e.preventDefault();
    if (e.repeat) return; // a held space toggles once: its repeats would flip the glitch back and forth
    const box = cells[focus].querySelector("input");
    box.checked = !box.checked;
    show();
  } else if (e.key === "Enter") {
    e.preventDefault();
    if (!e.repeat) form.requestSubmit(); // a held enter sends the sheet once
  } else if (!e.ctrlKey && !e.metaKey && !e.altKey) {
    const radio = form.querySelector(`input[name=choice][data-key="${CSS.escape(e.key.toLowerCase())}"]`);
    if (radio) {
      radio.checked = true;
      chooseNew(radio.value === "new");
      e.preventDefault();
    }
  }
});

show();
