// The subject page's "Similar glitches": fetched from the API, hidden when there are none
// (a glitch not embedded yet is answered 200 with an empty list and its reason, not a 404,
// so that no glitch page has an error in the console).
const box = document.getElementById("similar");
const response = await fetch(box.dataset.url, { headers: { Accept: "application/json" } });
// Read even when refused: Chrome holds a request whose body nobody reads open, and with
// Cache-Control: no-store no cache reads it either.
const answer = await response.json().catch(() => null);
if (response.ok) {
  const { similar } = answer;
  const grid = box.querySelector(".similar-grid");
  for (const s of similar) {
    const img = Object.assign(document.createElement("img"), {
      loading: "lazy",
      alt: "",
      src: s.image_url,
    });
    const caption = document.createElement("figcaption");
    // class names read without underscores, as on every other page; no label yet: "unlabelled"
    const name = s.label ? s.label.replaceAll("_", " ") : "unlabelled";
    caption.textContent = `${name} · ${s.similarity.toFixed(2)}`;
    const figure = document.createElement("figure");
    figure.append(img, caption);
    const a = document.createElement("a");
    a.href = `/subjects/${Number(s.subject_id)}/`;
    a.append(figure);
    grid.append(a);
  }
  box.hidden = similar.length === 0;
}
