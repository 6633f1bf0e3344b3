// The labelling page's site menu in a narrow window (a phone, a desktop zoomed to 175% or
// more): the links fold behind one "Menu" button so that the top bar stays one 48 px line,
// which the images' and the class buttons' heights count on (app.css). The button starts
// hidden and this script shows it: without JavaScript the links simply wrap.
// While the menu is open it covers the top of the images on a phone, so the page's own keys
// (a class, 1-4, Backspace, ?) and a click on the page do nothing but close it: a vote is
// never cast on a glitch the menu hides, and the next press votes as usual.
const toggle = document.getElementById("menu-toggle");
const nav = document.getElementById(toggle?.getAttribute("aria-controls") ?? "");
const page = document.querySelector("main");
const narrow = matchMedia("(max-width: 800px)");

// The keys the page could act on: a character (a class, 1-4, ?), Backspace, Escape. Tab,
// Enter and Space move within the menu or press what is focused in it.
function pageKey(event) {
  const { key } = event;
  return key === "Escape" || key === "Backspace" || (key.length === 1 && key !== " ");
}

let swallowClick = false; // the click that closed the menu does only that

function isOpen() {
  return toggle.getAttribute("aria-expanded") === "true";
}

function setOpen(open, { focusToggle = false } = {}) {
  toggle.setAttribute("aria-expanded", String(open));
  nav.classList.toggle("open", open);
  if (!open && focusToggle) toggle.focus();
}

function within(element) {
  return element instanceof Node && (nav.contains(element) || toggle.contains(element));
}

if (toggle && nav) {
  toggle.hidden = false;
  toggle.closest(".topbar").classList.add("has-menu");
  toggle.addEventListener("click", () => setOpen(!isOpen()));

  // Before the page's own key handler (label.js listens on the document, bubbling).
  window.addEventListener(
    "keydown",
    (event) => {
      if (!isOpen() || event.ctrlKey || event.metaKey || event.altKey) return;
      if (!pageKey(event)) return;
      event.preventDefault();
      event.stopPropagation();
      // A link that is hidden keeps no focus: it goes back to the button.
      const focusToggle = event.key === "Escape" || nav.contains(document.activeElement);
      setOpen(false, { focusToggle });
    },
    { capture: true },
  );

  window.addEventListener(
    "pointerdown",
    (event) => {
      swallowClick = false;
      if (!isOpen() || within(event.target)) return;
      setOpen(false);
      swallowClick = page?.contains(event.target) ?? false;
    },
    { capture: true },
  );
  window.addEventListener(
    "click",
    (event) => {
      if (!swallowClick) return;
      swallowClick = false;
      event.preventDefault();
      event.stopPropagation();
    },
    { capture: true },
  );

  // Tabbing out of the menu (past Log out, or back before the button) closes it.
  for (const element of [toggle, nav]) {
    element.addEventListener("focusout", (event) => {
      if (isOpen() && event.relatedTarget && !within(event.relatedTarget)) setOpen(false);
    });
  }
  // Wider than 800 px the links are in the bar again: a menu left open is closed.
  narrow.addEventListener("change", () => {
    if (!narrow.matches) setOpen(false);
  });
}
