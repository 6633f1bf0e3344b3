// The subject page's "Similar glitches": fetched from the API, hidden when there are none.
const box = document.getElementById("similar");
const response = await fetch(box.dataset.url, { headers: { Accept: "application/json" } });
if (response.ok) {
  const { similar } = await response.json();
  const grid = box.querySelector(".similar-grid");
  for (const s of similar) {
    const a = document.createElement("a");
    a.href = `/subjects/${s.subject_id}/`;
    a.innerHTML = `<figure><img loading="lazy" alt=""><figcaption></figcaption></figure>`;
    a.querySelector("img").src = s.image_url;
    a.querySelector("figcaption").textContent = `${s.label || "?"} · ${s.similarity.toFixed(2)}`;
    grid.append(a);
  }
  box.hidden = similar.length === 0;
}
