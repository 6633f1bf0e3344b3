// Cluster sheet: keyboard-only selection over a grid of glitches, one label for the rest.
// The grid is one tab stop, the glitch under the ring (its checkbox, then its link); on it
// or on the page itself, arrows move the ring and the focus, space toggles the glitch, a
// class key picks the label, enter submits (the form posts to the server: no client-side
// state survives a reload; a refused post comes back as it was sent). Elsewhere a key does
// what its control does: "Tick all" and "Untick all" are buttons, enter or space on them.
const grid = document.getElementById("sheet-grid");
const form = document.getElementById("sheet-form");
const cells = [...grid.querySelectorAll(".sheet-cell")];
const boxes = cells.map((cell) => cell.querySelector("input"));
const links = cells.map((cell) => cell.querySelector(".sheet-open"));
const count = document.getElementById("sheet-count");
const newClass = document.getElementById("new-class");
const ticks = document.getElementById("sheet-ticks");
let focus = 0;

function columns() {
  const top = cells[0].offsetTop;
  const n = cells.findIndex((c) => c.offsetTop !== top);
  return n === -1 ? cells.length : n;
}

function show() {
  cells.forEach((cell, i) => {
    cell.classList.toggle("off", !boxes[i].checked);
    cell.classList.toggle("focus", i === focus);
    boxes[i].tabIndex = links[i].tabIndex = i === focus ? 0 : -1; // Tab comes back here
  });
  count.textContent = boxes.filter((box) => box.checked).length;
  cells[focus].scrollIntoView({ block: "nearest" });
}

// Off, the new class's fields are disabled: a name the browser would refuse (its pattern)
// in a hidden box would block the post of another label without a word.
function chooseNew(on, focusName = on) {
  newClass.hidden = !on;
  for (const field of newClass.querySelectorAll("input, textarea")) {
    field.required = on;
    field.disabled = !on;
  }
  if (focusName) newClass.querySelector("#new_name").focus();
}

// The odd ones out may be most of the sheet: untick all, then tick the few to keep.
ticks.hidden = false;
ticks.addEventListener("click", (e) => {
  const button = e.target.closest("button[data-tick]");
  if (!button) return;
  boxes.forEach((box) => (box.checked = button.dataset.tick === "all"));
  show();
});

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
grid.addEventListener("focusin", (e) => {
  const i = cells.findIndex((cell) => cell.contains(e.target));
  if (i !== -1 && i !== focus) { focus = i; show(); }
});

// A key on a control other than a glitch's box is that control's: enter on a menu link
// follows it, on "Log out" logs out; space on a label's radio chooses it; the new class's
// fields take text. The sheet's keys took them all and posted the sheet.
function sheetKeys(target) {
  if (boxes.includes(target)) return true;
  return !target.closest("a, button, input, select, textarea, summary, [contenteditable]");
}

document.addEventListener("keydown", (e) => {
  if (e.key === "Escape") delete form.dataset.sent; // Esc stops the page loading: send again
  if (!sheetKeys(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
  const onBox = boxes.includes(e.target);
  const step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -columns(), ArrowDown: columns() }[e.key];
  if (step !== undefined) {
    focus = Math.min(cells.length - 1, Math.max(0, focus + step));
    show();
    boxes[focus].focus({ preventScroll: true }); // the focus follows the ring: space acts there
    e.preventDefault();
  } else if (e.key === " ") {
    if (onBox) return; // the box toggles itself, once for a held key (on its keyup)
    e.preventDefault();
    if (e.repeat) return; // a held space toggles once: its repeats would flip the glitch back and forth
    boxes[focus].checked = !boxes[focus].checked;
    show();
  } else if (e.key === "Enter") {
    e.preventDefault();
    if (!e.repeat) form.requestSubmit(); // a held enter sends the sheet once
  } else {
    const radio = form.querySelector(`input[name=choice][data-key="${CSS.escape(e.key.toLowerCase())}"]`);
    if (radio) {
      radio.checked = true;
      chooseNew(radio.value === "new");
      e.preventDefault();
    }
  }
});

// A refused post came back as it was sent: its label's fields as chosen, the focus on the
// first field it names (a reason beside a glitch count or the label takes no focus).
const chosen = form.querySelector("input[name=choice]:checked");
chooseNew(chosen?.value === "new", false);
show();
form.querySelector("[aria-invalid=true]")?.focus();
