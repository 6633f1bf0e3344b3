// Review page keys: A agree, R relabel (to the chosen class), U unsure, 1-3 pick a class from
// the model's top 3, / type a reason, Esc or Enter leave the reason field. Buttons work
// without JS.
// A verdict key is taken once per press, and only once the suspect has been seen.
import { MIN_VIEW_MS } from "../js/keys.js";

const form = document.getElementById("verdict-form");
const relabelTo = document.getElementById("relabel-to");
const reason = document.getElementById("reason");
const top3 = [...document.querySelectorAll(".top3 li[data-class]")];

// A verdict key counts only once the suspect's pictures are on screen, and MIN_VIEW_MS
// after (the labelling page's rule, js/keys.js): an agreed label is settled for good.
let shownAt = null; // when the pictures were on screen (null: not yet)
const pictures = [...document.querySelectorAll(".durations img")];
// A picture that fails still ends the wait: the buttons work without it, so should the keys.
Promise.all(pictures.map((img) => img.decode().catch(() => {}))).then(() => {
  shownAt = performance.now();
  // For the browser tests (and styles): from now on a verdict key counts.
  setTimeout(() => { form.dataset.votable = "1"; }, MIN_VIEW_MS);
});

const VERDICT_KEYS = new Map([["a", "agree"], ["r", "relabel"], ["u", "unsure"]]);

function seenLongEnough(pressedAt) {
  return shownAt !== null && pressedAt - shownAt >= MIN_VIEW_MS;
}

// Each probability bar's length (a style attribute in the markup would break the CSP).
for (const bar of document.querySelectorAll(".top3 .bar[data-p]")) {
  bar.style.setProperty("--p", bar.dataset.p);
}

function submit(value) {
  // one verdict per page (a held key must not send two), and none once Undo is on its way
  if (document.querySelector("form[data-sent]")) return;
  form.dataset.sent = "1";
  // The key presses its button: the decision sent is the button's value, as on a click.
  form.requestSubmit(form.querySelector(`button[name=decision][value=${value}]`));
}

function choose(index) {
  const item = top3[index];
  if (!item) return;
  relabelTo.value = item.dataset.class;
  top3.forEach((li) => li.classList.toggle("chosen", li === item));
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const typing = event.target === reason || event.target === relabelTo;
  if (typing) {
    // Enter submits nothing here (the form's disabled first button): it leaves the field,
    // as Esc does, so that the next key can be the verdict.
    if (event.key === "Escape" || event.key === "Enter") event.target.blur();
    return;
  }
  const key = event.key.toLowerCase();
  const verdict = VERDICT_KEYS.get(key);
  if (verdict) {
    event.preventDefault();
    // A held key acts once: its repeats decide nothing, here or on the next suspect's page.
    if (!event.repeat && seenLongEnough(event.timeStamp)) submit(verdict); // same clock
    return;
  }
  if (event.repeat) return;
  if (key === "/") reason.focus();
  else if (["1", "2", "3"].includes(key)) choose(Number(key) - 1);
  else return;
  event.preventDefault();
});
