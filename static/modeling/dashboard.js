// Admin dashboard: poll the status JSON, move the progress bar, refresh the workers'
// state, and reload the page when a run, the active model, a switch or a failure notice
// changes (a promote that fails after the click, the active model's scoring or re-route).
const root = document.getElementById("models");
const POLL_MS = 1500;

function text(selector, value) {
  const el = root.querySelector(selector);
  if (el && value !== undefined && value !== null) el.textContent = value;
}

function describe(progress) {
  if (!progress || !progress.phase) return "waiting for a gpu worker";
  const parts = [progress.phase];
  if (progress.epoch) parts.push(`epoch ${progress.epoch}/${progress.epochs}`);
  if (progress.steps) parts.push(`step ${progress.step}/${progress.steps}`);
  if (progress.loss !== undefined && progress.loss !== null) parts.push(`loss ${progress.loss}`);
  if (progress.total) parts.push(`${progress.done}/${progress.total} decoded`);
  for (const [name, value] of Object.entries(progress.metrics || {})) {
    parts.push(`${name} ${value}`);
  }
  return parts.join(" · ");
}

// The bar's width is set here, not in the markup: the CSP allows no style attributes.
function fill(percent) {
  const bar = root.querySelector("[data-testid=progress]");
  if (bar) {
    bar.setAttribute("aria-valuenow", String(percent));
    bar.querySelector(".bar-fill").style.width = `${percent}%`;
  }
}

function render(state) {
  const run = state.live_run;
  if (run) {
    fill(Math.round(100 * (run.progress.fraction || 0)));
    text("[data-testid=run-status]", run.status);
    text("[data-testid=progress-text]", describe(run.progress));
    text("[data-testid=log]", run.log_tail);
  }
  const worker = root.querySelector("[data-testid=gpu-worker]");
  if (worker) {
    worker.textContent = state.gpu_worker_alive
      ? `alive (${state.gpu_workers.join(", ")})`
      : `none seen in the last ${Math.round(state.workers_seen_within_s)} s`;
    worker.className = state.gpu_worker_alive ? "ok" : "bad";
  }
  const now = {
    liveRun: run ? `${run.id}:${run.status}` : ":",
    active: state.active_model ? String(state.active_model.id) : "",
    pending: state.pending_activation ? String(state.pending_activation.id) : "",
    // as the page's data-notices: the failed switch's id, then which active-model notices
    notices: [
      state.failed_switch ? String(state.failed_switch.id) : "",
      state.active_model && state.active_model.scoring_error ? "s" : "",
      state.active_model && state.active_model.reroute_error ? "r" : "",
    ].join(":"),
  };
  if (
    now.liveRun !== root.dataset.liveRun ||
    now.active !== root.dataset.active ||
    now.pending !== root.dataset.pending ||
    now.notices !== root.dataset.notices
  ) {
    window.location.reload();
  }
}

async function poll() {
  try {
    const response = await fetch(root.dataset.statusUrl, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    // read even when refused: an unread body holds its request open (discovery/similar.js)
    const answer = await response.json().catch(() => null);
    if (response.ok) render(answer);
  } catch (error) {
    console.warn("status poll failed", error);
  }
  window.setTimeout(poll, POLL_MS);
}

if (root) {
  fill(Number(root.querySelector("[data-testid=progress]")?.getAttribute("aria-valuenow") ?? 0));
  window.setTimeout(poll, POLL_MS);
}
