// The map: Plotly scatter of the 2-D UMAP of every glitch, coloured by class, model
// confidence or cluster. Hover shows the spectrogram, click opens the glitch, a lasso
// selection becomes a batch labelled on the cluster sheet. Below it the same glitches as a
// list, the keyboard's way to them and to the batch (the plot has nothing to focus).
import { UNLABELLED_COLOUR, coloursFor } from "./palette.js";

const el = document.getElementById("map");
const hover = document.getElementById("map-hover");
const colourBy = document.getElementById("colour-by");
const lassoButton = document.getElementById("lasso-batch");
let data = null;
let selected = [];
// What the lasso caught or the list ticked: one selection, the batch's (select, below).
const chosen = new Set();
const groupsEl = document.getElementById("map-groups");
const groupTicks = []; // the list's groups: [checkbox, the group's open ids]

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
    // No confidence (no prediction yet, or not shown before the volunteer votes): grey,
    // not the bottom of the scale.
    const rows = (known) => data.ids.map((_, r) => r).filter((r) => (data.confidence[r] != null) === known);
    const trace = (rs, marker) => ({
      type: "scattergl", mode: "markers", x: rs.map((r) => data.x[r]), y: rs.map((r) => data.y[r]),
      customdata: rs.map((r) => data.ids[r]), text: rs.map((r) => about(r, data.label[r])),
      hovertemplate: "%{text}<extra></extra>", marker,
    });
    const known = rows(true);
    return [
      trace(rows(false), { size: 6, color: UNLABELLED_COLOUR }),
      trace(known, { size: 6, color: known.map((r) => data.confidence[r]), colorscale: "Viridis", showscale: true, colorbar: { title: "p" } }),
    ];
  }
  const key = mode === "cluster" ? data.cluster.map((c) => (c < 0 ? "none" : `cluster ${c}`)) : data.label;
  const colours = mode === "cluster" ? null : coloursFor(key);
  const groups = new Map();
  key.forEach((k, i) => {
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(i);
  });
  return [...groups.entries()].sort().map(([name, rows]) => ({
    type: "scattergl", mode: "markers", name: shown(name),
    x: rows.map((r) => data.x[r]), y: rows.map((r) => data.y[r]),
    customdata: rows.map((r) => data.ids[r]), text: rows.map((r) => about(r, name)),
    hovertemplate: "%{text}<extra></extra>",
    marker: colours ? { size: 6, color: colours.get(name) } : { size: 6 },
  }));
}

// Legend entries read "Koi Fish", not "Koi_Fish" (the one rule: GlitchClass.display_name).
function shown(name) {
  return name.replaceAll("_", " ");
}

function draw() {
  const layout = {
    dragmode: lassoButton ? "lasso" : "pan", hovermode: "closest", showlegend: colourBy.value !== "confidence",
    paper_bgcolor: "#10131a", plot_bgcolor: "#10131a", font: { color: "#e7e9ee" },
    xaxis: { visible: false }, yaxis: { visible: false },
    // The toolbar gets the top band to itself; the legend starts below it.
    margin: { l: 10, r: 10, t: 40, b: 10 },
    legend: { y: 1, yanchor: "top", bgcolor: "rgba(16,19,26,0.8)" },
  };
  Plotly.react(el, traces(colourBy.value), layout, PLOTLY_CONFIG);
}

// Nothing leaves this site: no "Share chart"/Chart Studio buttons or links.
const PLOTLY_CONFIG = {
  displaylogo: false,
  responsive: true,
  showLink: false,
  showSendToCloud: false,
  showEditInChartStudio: false,
  modeBarButtonsToRemove: ["sendDataToCloud", "editInChartStudio"],
};

function imageOf(id) {
  return data.image[data.ids.indexOf(id)];
}

const response = await fetch(el.dataset.url, { headers: { Accept: "application/json" } });
const answer = await response.json().catch(() => null); // read even when refused (similar.js)
data = response.ok ? answer : { ready: false };
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
  // A lasso replaces the selection, and the list ticks what it caught.
  el.on("plotly_selected", (e) => {
    chosen.clear();
    for (const p of e?.points ?? []) chosen.add(p.customdata);
    choose();
  });
  list();
  colourBy.addEventListener("change", list);
  document.getElementById("map-list").hidden = false;
  el.dataset.ready = "1";
}

// --- the map as a list (#map-list) ---------------------------------------------------------
// The plot offers the keyboard no point to focus and a lasso needs a mouse; here are the same
// glitches in the legend's groups (by cluster when coloured by cluster, else by class), each
// group a <details> whose glitches are links to their pages and, where the viewer can still
// vote on them and may batch, checkboxes feeding the same "label the selected together".
// A group's rows are made when it is first opened: a map may hold thousands of glitches.
function isOpen(r) {
  return data.open?.[r] ?? true;
}

function glitches(n) {
  return `${n} glitch${n === 1 ? "" : "es"}`;
}

function list() {
  const byCluster = colourBy.value === "cluster";
  const groups = new Map();
  data.ids.forEach((_, r) => {
    const c = data.cluster[r];
    const name = byCluster ? (c < 0 ? "none" : `cluster ${c}`) : data.label[r];
    if (!groups.has(name)) groups.set(name, []);
    groups.get(name).push(r);
  });
  groupTicks.length = 0;
  groupsEl.replaceChildren(...[...groups.keys()].sort().map((name) => group(name, groups.get(name))));
  ticks();
}

function group(name, rows) {
  const details = document.createElement("details");
  details.className = "map-group";
  const summary = document.createElement("summary");
  const open = rows.filter(isOpen).map((r) => data.ids[r]);
  summary.textContent = `${shown(name)}: ${glitches(rows.length)}${lassoButton ? `, ${open.length} open to you` : ""}`;
  details.append(summary);
  if (lassoButton && open.length) {
    const label = document.createElement("label");
    const box = checkbox(() => {
      for (const id of open) box.checked ? chosen.add(id) : chosen.delete(id);
      choose();
    });
    groupTicks.push([box, open]);
    label.append(box, ` Tick its ${glitches(open.length)} open to you`);
    details.append(label);
  }
  const ul = document.createElement("ul");
  details.append(ul);
  // on the click (Enter or Space on the summary makes one too) before it opens, so the
  // rows are there for the next Tab; "toggle" comes a task later, for any other opening
  const fill = () => {
    if (!ul.childElementCount) ul.append(...rows.map(item));
  };
  summary.addEventListener("click", fill);
  details.addEventListener("toggle", () => details.open && fill());
  return details;
}

function item(r) {
  const id = data.ids[r];
  const li = document.createElement("li");
  if (lassoButton && isOpen(r)) {
    const box = checkbox(() => {
      box.checked ? chosen.add(id) : chosen.delete(id);
      choose();
    });
    box.dataset.id = id;
    box.checked = chosen.has(id);
    box.setAttribute("aria-label", `Tick glitch #${id}`);
    li.append(box, " ");
  }
  const link = document.createElement("a");
  link.href = `/subjects/${id}/`;
  link.textContent = `Glitch #${id}`;
  const facts = document.createElement("span");
  facts.className = "muted";
  // text only: the same columns as the hover, none of it markup
  facts.textContent = [
    shown(data.label[r]), data.ifo?.[r],
    data.snr?.[r] != null ? `SNR ${data.snr[r]}` : "",
    data.peak_frequency?.[r] != null ? `${data.peak_frequency[r]} Hz` : "",
  ].filter(Boolean).join(" · ");
  li.append(link, " ", facts);
  return li;
}

function checkbox(onChange) {
  const box = document.createElement("input");
  box.type = "checkbox";
  box.addEventListener("change", onChange);
  return box;
}

// The list's ticks follow the selection: a glitch's box, and a group's (ticked when all its
// open glitches are, half when some are).
function ticks() {
  for (const box of groupsEl.querySelectorAll("input[data-id]")) box.checked = chosen.has(Number(box.dataset.id));
  for (const [box, ids] of groupTicks) {
    const n = ids.filter((id) => chosen.has(id)).length;
    box.checked = n > 0 && n === ids.length;
    box.indeterminate = n > 0 && n < ids.length;
  }
}

function choose() {
  ticks();
  select([...chosen]);
}

// A batch takes only the glitches the volunteer may still vote on, at most batch_max of
// them: the count on the button is the sheet's size, and the rest is said.
function select(ids) {
  const open = new Set(data.ids.filter((id, r) => isOpen(r)));
  const votable = ids.filter((id) => open.has(id));
  selected = votable.slice(0, data.batch_max ?? votable.length);
  if (!lassoButton) return;
  document.getElementById("lasso-n").textContent = selected.length;
  lassoButton.disabled = selected.length === 0;
  const left = [];
  if (ids.length > votable.length) left.push(`${ids.length - votable.length} already answered or closed`);
  if (votable.length > selected.length) left.push(`${votable.length - selected.length} over the batch's ${selected.length}`);
  note().textContent = ids.length ? `${ids.length} selected${left.length ? `; left out: ${left.join(", ")}` : ""}` : "";
}

function note() {
  let el = document.getElementById("lasso-note");
  if (!el) {
    el = document.createElement("span");
    el.id = "lasso-note";
    el.className = "muted";
    el.dataset.testid = "lasso-note";
    lassoButton.after(el);
  }
  return el;
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
