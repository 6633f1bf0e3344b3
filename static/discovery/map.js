// The map: Plotly scatter of the 2-D UMAP of every glitch, coloured by class, model
// confidence or cluster. Hover shows the spectrogram, click opens the glitch, a lasso
// selection becomes a batch labelled on the cluster sheet.
const el = document.getElementById("map");
const hover = document.getElementById("map-hover");
const colourBy = document.getElementById("colour-by");
const lassoButton = document.getElementById("lasso-batch");
let data = null;
let selected = [];

// The hover's text: the class, then the glitch's detector, SNR and peak frequency when known
// (map_points sends a detector name or numbers only, so none of it can be markup).
function about(r, name) {
  const facts = [
    data.ifo?.[r],
    data.snr?.[r] != null ? `SNR ${data.snr[r]}` : "",
    data.peak_frequency?.[r] != null ? `${data.peak_frequency[r]} Hz` : "",
  ].filter(Boolean);
  return facts.length ? `${name}<br>${facts.join(" · ")}` : name;
}

function traces(mode) {
  if (mode === "confidence") {
    return [{
      type: "scattergl", mode: "markers", x: data.x, y: data.y, customdata: data.ids,
      text: data.label.map((name, r) => about(r, name)), hovertemplate: "%{text}<extra></extra>",
      marker: { size: 6, color: data.confidence.map((c) => c ?? 0), colorscale: "Viridis", showscale: true, colorbar: { title: "p" } },
    }];
  }
  const key = mode === "cluster" ? data.cluster.map((c) => (c < 0 ? "none" : `cluster ${c}`)) : data.label;
  const groups = new Map();
  key.forEach((k, i) => {
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(i);
  });
  return [...groups.entries()].sort().map(([name, rows]) => ({
    type: "scattergl", mode: "markers", name,
    x: rows.map((r) => data.x[r]), y: rows.map((r) => data.y[r]),
    customdata: rows.map((r) => data.ids[r]), text: rows.map((r) => about(r, name)),
    hovertemplate: "%{text}<extra></extra>", marker: { size: 6 },
  }));
}

function draw() {
  const layout = {
    dragmode: lassoButton ? "lasso" : "pan", hovermode: "closest", showlegend: colourBy.value !== "confidence",
    paper_bgcolor: "#10131a", plot_bgcolor: "#10131a", font: { color: "#e7e9ee" },
    xaxis: { visible: false }, yaxis: { visible: false }, margin: { l: 10, r: 10, t: 10, b: 10 },
  };
  Plotly.react(el, traces(colourBy.value), layout, { displaylogo: false, responsive: true });
}

function imageOf(id) {
  return data.image[data.ids.indexOf(id)];
}

const response = await fetch(el.dataset.url, { headers: { Accept: "application/json" } });
data = response.ok ? await response.json() : { ready: false };
if (!data.ready) {
  document.getElementById("map-empty").hidden = false;
  el.hidden = true;
} else {
  draw();
  colourBy.addEventListener("change", draw);
  el.on("plotly_hover", (e) => {
    const p = e.points[0];
    hover.src = imageOf(p.customdata);
    hover.style.left = `${e.event.clientX + 16}px`;
    hover.style.top = `${e.event.clientY + 16}px`;
    hover.hidden = false;
  });
  el.on("plotly_unhover", () => { hover.hidden = true; });
  el.on("plotly_click", (e) => { window.location.href = `/subjects/${e.points[0].customdata}/`; });
  el.on("plotly_selected", (e) => {
    selected = e ? e.points.map((p) => p.customdata) : [];
    if (lassoButton) {
      document.getElementById("lasso-n").textContent = selected.length;
      lassoButton.disabled = selected.length === 0;
    }
  });
  el.dataset.ready = "1";
}

lassoButton?.addEventListener("click", async () => {
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  const r = await fetch(el.dataset.batchUrl, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
    body: JSON.stringify({ subject_ids: selected }),
  });
  if (r.ok) window.location.href = el.dataset.sheetUrl;
  else alert((await r.json()).detail || "could not make a batch");
});
