// Review page keys: A agree, R relabel (to the chosen class), U unsure, 1-3 pick a class from
// the model's top 3, / type a reason, Esc leave the reason field. Buttons work without JS.
const form = document.getElementById("verdict-form");
const decision = document.getElementById("decision");
const relabelTo = document.getElementById("relabel-to");
const reason = document.getElementById("reason");
const top3 = [...document.querySelectorAll(".top3 li[data-class]")];

// Each probability bar's length (a style attribute in the markup would break the CSP).
for (const bar of document.querySelectorAll(".top3 .bar[data-p]")) {
  bar.style.setProperty("--p", bar.dataset.p);
}

for (const button of form.querySelectorAll("button[data-decision]")) {
  button.addEventListener("click", () => { decision.value = button.dataset.decision; });
}

function submit(value) {
  if (form.dataset.sent) return; // one verdict per page: a held key must not send two
  form.dataset.sent = "1";
  decision.value = value;
  form.submit();
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
    if (event.key === "Escape") event.target.blur();
    return;
  }
  const key = event.key.toLowerCase();
  if (key === "a") submit("agree");
  else if (key === "r") submit("relabel");
  else if (key === "u") submit("unsure");
  else if (key === "/") { event.preventDefault(); reason.focus(); }
  else if (["1", "2", "3"].includes(key)) choose(Number(key) - 1);
  else return;
  event.preventDefault();
});
