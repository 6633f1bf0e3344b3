// Backspace presses the "Undo it" of the message at the top of a review page (the verdict
// just saved, or the reviewer's own that stood in the way of another): the labelling page's
// ⌫. The js/keys.js rules: a held key acts once (its repeats do nothing, here or on the page
// the undo leads to), and nothing fires while typing in a field. The button works without JS.
const undo = document.querySelector("button[data-undo-key]");

if (undo) {
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Backspace" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, textarea, select, [contenteditable]")) return;
    event.preventDefault();
    // one form per page: not while a verdict (or this undo) is on its way
    if (event.repeat || document.querySelector("form[data-sent]")) return;
    undo.form.dataset.sent = "1";
    undo.form.requestSubmit(undo);
  });
}
