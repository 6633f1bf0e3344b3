// The labelling page: keyboard-first voting against the JSON API.
// The subject after the one on screen is fetched and its images decoded in advance, so a
// vote swaps the picture at once (a key pressed before it came waits for it: it is asked
// for until the server answers, and the page says so meanwhile). A glitch takes a key only
// once all its pictures are on screen: one whose pictures fail or are slow is shown without
// them (never under the last glitch's), and the page says so and asks again, a few times:
// then it says they could not be loaded and offers another glitch (passOver); slow ones are
// said to be slow, and another glitch offered after a while, without the focus. The vote itself
// is sent with a client-made idempotency key and retried until the server confirms it (a retry
// never counts twice). Each subject comes with an assignment (the server handed it to this
// volunteer), sent back with its vote.
// Text from the server (class names and descriptions, which volunteers can propose) only
// ever becomes text nodes: this page builds no markup from strings.
import { MIN_VIEW_MS } from "./keys.js";

const app = document.getElementById("label-app");
const boot = JSON.parse(document.getElementById("boot").textContent);
const API = app.dataset.api;
const csrfToken = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/)?.[1] ?? "";

const els = {
  durations: document.getElementById("durations"),
  slots: [...document.querySelectorAll("#durations .duration")],
  choices: document.getElementById("choices"),
  progress: document.getElementById("progress"),
  feedback: document.getElementById("feedback"),
  levelup: document.getElementById("levelup"),
  meta: document.getElementById("subject-meta"),
  announce: document.getElementById("announce"),
  empty: document.getElementById("empty"),
  undo: document.getElementById("undo"),
  guide: document.getElementById("guide"),
  guideGrid: document.getElementById("guide-grid"),
  guideToggle: document.getElementById("guide-toggle"),
  pictures: document.getElementById("pictures"), // what is keeping the pictures off screen
};

// A key or click votes only on a glitch that has been on screen MIN_VIEW_MS (keys.js).
// Pictures not all on screen this long after the glitch was shown: the page says so.
const SLOW_PICTURES_MS = 1000;
// A glitch's pictures that fail are tried this many times (1 s, then 2 s apart) before the
// page says they could not be loaded and offers another glitch, focused (Enter).
const PICTURE_TRIES = 3;
// Pictures still coming this long after the glitch was shown are slow, not failed (4 PNGs of
// 200 KB take 16 s on Slow 3G): the page says so and offers another glitch, unfocused, so an
// Enter pressed to go on passes over no glitch that was only slow.
const PICTURES_OFFER_MS = 10_000;

// The glitches passed over because their pictures could not be loaded are not handed to
// this tab again (`exclude`) for PASSED_FOR_MS, after a reload too: the latest PASSED_MAX of
// them (the server takes 100 ids to exclude at most), kept in the tab's storage with their
// volunteer, each as [id, when]. Not for good: a glitch whose files the server finds broken
// leaves everyone's queue (POST unseen/), so one handed out again is whole there and failed
// in this browser (the network, a proxy) and is tried again; a training glitch passed over
// for good held every other training glitch back from this tab (the server serves none
// while the one due is excluded).
const PASSED = "glitchlab.passed-over";
const PASSED_MAX = 50;
const PASSED_FOR_MS = 10 * 60 * 1000;

function passedBefore() {
  try {
    const kept = JSON.parse(sessionStorage.getItem(PASSED) ?? "null");
    if (kept?.volunteer === boot.volunteer && Array.isArray(kept.passed)) {
      const valid = (pair) => Number.isInteger(pair?.[0]) && Number.isFinite(pair?.[1]);
      return kept.passed.filter(valid).slice(-PASSED_MAX);
    }
  } catch {
    /* not ours to read: none */
  }
  return [];
}

// The ids passed over in the last PASSED_FOR_MS.
function passedIds() {
  const since = Date.now() - PASSED_FOR_MS;
  return state.passed.filter(([, at]) => at > since).map(([id]) => id);
}

// This tab's name (`tab`, sent with each request that hands out a glitch): the server keeps
// the glitches it hands this tab from the account's other tabs for a few minutes, and hands
// them to this tab again (a reload). Two tabs were handed the same glitches, and the slower
// one's votes were refused. The name is in the tab's storage only while the page is away (a
// reload, Back): taken out as the page starts, put back as it goes (pagehide), so a tab
// duplicated meanwhile (which copies the storage) names itself anew.
const TAB = "glitchlab.tab";
const tabId = (() => {
  let kept = null;
  try {
    kept = sessionStorage.getItem(TAB);
    sessionStorage.removeItem(TAB);
  } catch {
    /* no storage: a name for this page only */
  }
  return /^[A-Za-z0-9-]{1,36}$/.test(kept ?? "") ? kept : uuid4();
})();
window.addEventListener("pagehide", () => {
  try {
    sessionStorage.setItem(TAB, tabId);
  } catch {
    /* a reload names the tab anew; its glitches come back after a few minutes */
  }
});

// A subject's assignment was signed when it came, and lasts boot.assignment_max_age_s (30
// minutes, the server's ASSIGNMENT_MAX_AGE_S): one preloaded more than 5/6 of that ago (25
// minutes: a tab left open) is asked for again before it is shown, or its vote would be refused.
const STALE_MS = (boot.assignment_max_age_s * 1000 * 5) / 6;

const state = {
  classes: boot.classes,
  current: null, // subject on screen
  next: undefined, // subject preloaded for after the vote (null: queue empty)
  shownAt: null, // when all the pictures of the subject on screen were (null: not yet)
  voted: false, // the subject on screen has had its one vote
  votableTimer: null,
  inFlight: new Set(), // ids of subjects voted but not yet confirmed
  unsent: new Map(), // subject id -> the vote pressed on it, until the server has it
  votes: [], // ids of the votes stored from this page, for undo (each names its vote)
  lastVote: null, // the latest vote pressed: {subject, stored: Promise of its id (null: none to undo)}
  sending: new Set(), // the votes pressed whose answer has not come (lastVote's kind)
  undoing: false, // an undo waits for the vote it takes back to be stored (undo)
  passed: passedBefore(), // [id, when] of the glitches passed over (their pictures never came)
  busy: false,
};

// Key-press -> next subject painted, in ms (read by the browser tests and the console).
window.glitchlabTimings = [];

function uuid4() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

async function api(path, { method = "GET", body } = {}) {
  const response = await fetch(API + path, {
    method,
    credentials: "same-origin",
    cache: "no-store", // never an answer kept from before (Back: a glitch voted on since)
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  return { status: response.status, ok: response.ok, data };
}

// An element with its properties and children; strings become text nodes, never markup.
function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  const { dataset, ...rest } = props;
  Object.assign(node, rest);
  if (dataset) Object.assign(node.dataset, dataset);
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

const kbd = (key) => h("kbd", {}, (key ?? "").toUpperCase());

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const nextPaint = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));

// Start downloading and decoding a subject's images, one <img> per view: show() puts these
// very elements on screen, so showing a subject whose images came needs no network.
function preload(subject) {
  if (!subject) return subject;
  subject.fetchedAt = Date.now(); // about when its assignment was signed
  subject.imgs = subject.images.map((image) => picture(image.url));
  return subject;
}

function picture(url) {
  const img = new Image();
  img.src = url;
  img.decode().catch(() => {}); // a failure is seen by loaded()
  return img;
}

// true once the image is there, false if it failed
const loaded = (img) =>
  img.complete
    ? Promise.resolve(img.naturalWidth > 0)
    : new Promise((resolve) => {
        img.addEventListener("load", () => resolve(true), { once: true });
        img.addEventListener("error", () => resolve(false), { once: true });
      });

// `ids`: the subjects not to hand out, read at each try (votes confirmed meanwhile are no
// longer in flight).
async function fetchNext(ids = () => [state.current?.id, ...state.inFlight, ...passedIds()]) {
  const exclude = () => ids().filter(Boolean).join(",");
  const { status, data } = await persist(
    () => api(`subjects/next/?exclude=${exclude()}&tab=${tabId}`),
    (r) => (r.status === 200 && r.data) || r.status === 204 || refusal(r),
  );
  if (status === 401 || status === 403) {
    sessionEnded();
    return null;
  }
  if (status !== 200 && status !== 204) throw new Error(data?.detail ?? `HTTP ${status}`);
  return status === 200 ? preload(data) : null;
}

const SLOT_OF_DURATION = { 0.5: 0, 1: 1, 2: 2, 4: 3 };

function show(subject) {
  state.current = subject;
  state.voted = false;
  state.shownAt = null;
  clearTimeout(state.votableTimer);
  delete app.dataset.votable;
  app.dataset.state = subject ? "ready" : "empty";
  els.empty.hidden = Boolean(subject);
  els.durations.hidden = !subject;
  els.pictures.hidden = true;
  if (!subject) {
    els.meta.textContent = "";
    return;
  }
  paint(subject);
  app.dataset.subject = subject.id;
  els.meta.textContent = `Glitch #${subject.id}${subject.ifo ? " · " + subject.ifo : ""}`;
  els.announce.textContent = `Glitch #${subject.id} shown: which class is it?`; // screen readers
  untilSeen(subject);
}

// Each view's <img> in its slot: a new element, so the last glitch's picture is never left
// painted while this one's loads (a changed src keeps the old image until the new one comes).
function paint(subject) {
  const bySlot = new Map(subject.images.map((im, k) => [SLOT_OF_DURATION[im.duration], k]));
  els.slots.forEach((slot, i) => {
    const k = bySlot.get(i);
    slot.hidden = k === undefined;
    const img = slot.querySelector("img");
    if (k === undefined || img === subject.imgs[k]) return;
    subject.imgs[k].alt = img.alt;
    img.replaceWith(subject.imgs[k]);
  });
}

// `parts`: strings (shown as text) and elements; none hides the note.
function picturesNote(parts) {
  els.pictures.replaceChildren(...parts);
  els.pictures.hidden = !parts.length;
}

// A key counts once every picture of the glitch is on screen (and MIN_VIEW_MS after): one
// that failed is asked for again, waiting longer each time, and the page says why it waits.
// After PICTURE_TRIES failed tries it says they could not be loaded and offers another glitch
// (subject.offer "failed"): a picture that never comes (gone from the server, cut short) held
// the glitch on screen for good, and a reload brought it back. Still coming after
// PICTURES_OFFER_MS, they are said to be slow and another glitch is offered too ("slow"):
// a stalled connection is not held on the glitch for good either. Until the glitch is passed
// over, its pictures are waited for, and take keys if they come.
async function untilSeen(subject) {
  subject.offer = null;
  subject.retrying = false;
  const gone = () => state.current !== subject;
  const slow = setTimeout(() => picturesWait(subject), SLOW_PICTURES_MS);
  const late = setTimeout(() => {
    subject.offer ??= "slow";
    picturesWait(subject);
  }, PICTURES_OFFER_MS);
  const stop = () => {
    clearTimeout(slow);
    clearTimeout(late);
  };
  for (let attempt = 1; ; attempt++) {
    const ok = await Promise.all(subject.imgs.map(loaded));
    if (gone()) return stop();
    if (ok.every(Boolean)) break;
    if (attempt === PICTURE_TRIES) {
      stop();
      subject.offer = "failed";
      return picturesWait(subject);
    }
    subject.retrying = true;
    picturesWait(subject);
    await sleep(1000 * 2 ** (attempt - 1));
    if (gone()) return stop();
    subject.imgs = subject.imgs.map((img, k) => (ok[k] ? img : picture(img.src)));
    paint(subject);
  }
  stop();
  subject.offer = null;
  picturesNote([]);
  state.shownAt = performance.now();
  // For the browser tests (and styles): from now on a key press counts.
  state.votableTimer = setTimeout(() => {
    app.dataset.votable = "1";
  }, MIN_VIEW_MS);
}

// Why the glitch on screen takes no key yet, said above its pictures (untilSeen), with the
// offer of another glitch once there is one. `said`: what a key pressed meanwhile got. Only
// pictures that failed every try are said to be beyond loading, and only then does the offer
// take the focus (Enter presses it): slow ones were called "could not be loaded" at 10 s, and
// the focus moved to the offer, so Enter passed over a glitch that was only slow.
function picturesWait(subject, said = "") {
  if (state.current !== subject || state.shownAt !== null) return;
  const id = `Glitch #${subject.id}`;
  if (!subject.offer) {
    const why = subject.retrying ? "its pictures could not be loaded. Trying again…" : "its pictures are still loading.";
    picturesNote([`${said}${id}: ${why}`]);
    return;
  }
  const another = h(
    "button",
    { type: "button", className: "pass-over", dataset: { testid: "pass-over" } },
    "Show another glitch",
  );
  another.addEventListener("click", passOver);
  if (subject.offer === "failed") {
    picturesNote([`${said}This glitch's pictures could not be loaded. `, another]);
    another.focus({ preventScroll: true });
  } else {
    const why = subject.retrying ? "its pictures could not be loaded yet; trying again" : "its pictures are still loading";
    picturesNote([`${said}${id}: ${why} (a slow connection?). Keys count once they are on screen, or `, another]);
  }
}

const pct = (x) => `${Math.round(x * 100)}%`;

// One class's skill as the progress line shows it: its alpha "of" the training glitches of
// that class shown; before any was shown, how many answers naming it were right (a wrong
// "Whistle" on a Blip read "Whistle: 0% of 0").
function skill(s, name) {
  if (s.alpha === null) return "–";
  if (s.gold_answers > 0) return `${pct(s.alpha)} of ${s.gold_answers}`;
  return `none shown yet (${s.answered} answered ${name}, ${s.right} right)`;
}

function renderProgress(p) {
  // s.ready and s.alpha are the numbers promotion decides with (consensus.class_skill).
  const ready = p.learning.filter((s) => s.ready);
  const skills = p.learning
    .map((s) => {
      const name = s.name.replaceAll("_", " ");
      return `${name}: ${skill(s, name)}`;
    })
    .join(" · ");
  els.progress.replaceChildren(
    h("b", { dataset: { testid: "level" } }, `Level ${p.level}`),
    ` of ${p.max_level}`,
    h("br"),
    h("span", { dataset: { testid: "count" } }, String(p.n_classified)),
    ` classified · training ${p.n_gold_correct}/${p.n_gold} right`,
  );
  if (p.learning.length) {
    // The rule is said on screen, from the numbers promotion decides with: as a tooltip
    // alone (a title on text that takes no focus), no keyboard or touch volunteer saw it.
    const rule =
      `To reach level ${p.level + 1}: ${pct(p.min_alpha)} or better on at least ` +
      `${p.min_gold} training glitch${p.min_gold === 1 ? "" : "es"} of each class below.`;
    els.progress.append(
      h("br"),
      h("small", { dataset: { testid: "level-rule" } }, rule),
      h("br"),
      h(
        "small",
        {
          title:
            `accuracy on training glitches of each class (of N shown): the lower of "right when you answered it" ` +
            `and "recognised when it was one"`,
        },
        `Next level: ${ready.length}/${p.learning.length} ready — ${skills}`,
      ),
    );
  }
}

function renderChoices() {
  els.choices.replaceChildren(
    ...state.classes.map((c) =>
      h(
        "button",
        {
          type: "button",
          className: "choice" + (c.name === "None_of_the_Above" ? " none" : ""),
          dataset: { class: c.name, key: c.key ?? "" },
        },
        kbd(c.key),
        ` ${c.display_name}`,
      ),
    ),
  );
  els.guideGrid.replaceChildren(
    ...state.classes.map((c) =>
      h(
        "article",
        { className: "guide-card" },
        h("h3", {}, kbd(c.key), ` ${c.display_name}`),
        ...c.examples.map((example) =>
          h(
            "figure",
            { className: example.simulated ? "guide-example simulated" : "guide-example" },
            h("img", { src: example.url, alt: `${c.display_name} example`, loading: "lazy" }),
            example.simulated
              ? h(
                  "figcaption",
                  {},
                  h("span", { className: "badge", dataset: { testid: "simulated" } }, "simulated"),
                )
              : null,
          ),
        ),
        h("p", {}, c.description),
        c.tell_apart
          ? h("p", { className: "tell-apart" }, h("strong", {}, "Telling it apart: "), c.tell_apart)
          : null,
      ),
    ),
  );
}

// The votes pressed and not yet stored are in the tab's storage at every change, each with
// its volunteer: a page left before the server had them (reloaded, Back, a link, the
// session ended: 401/403) sends them when it starts again (resendKept), with their
// idempotency keys, so a vote that had arrived after all is not counted twice.
const UNSENT = "glitchlab.unsent-votes";

function keep() {
  const votes = [...state.unsent.values()].map((vote) => ({ ...vote, volunteer: boot.volunteer }));
  if (votes.length) sessionStorage.setItem(UNSENT, JSON.stringify(votes));
  else sessionStorage.removeItem(UNSENT);
}

function sessionEnded() {
  const kept = state.unsent.size > 0;
  window.location.href = `/accounts/login/?next=/label/&expired=1${kept ? "&kept=1" : ""}`;
}

async function resendKept() {
  let kept = [];
  try {
    kept = JSON.parse(sessionStorage.getItem(UNSENT) ?? "[]");
  } catch {
    /* not ours to read: dropped below */
  }
  kept = Array.isArray(kept) ? kept.filter((vote) => vote && typeof vote === "object") : [];
  // Pressed under another account (logged in since on this tab): not sent. (One kept before
  // votes named their volunteer is sent: the server refuses another's, not_assigned.)
  const ours = (vote) => (vote.volunteer ?? boot.volunteer) === boot.volunteer;
  if (!kept.every(ours)) say(["A vote pressed on this tab under another account was not sent."], "wrong");
  for (const { with_next, exclude, tab, volunteer, ...body } of kept.filter(ours)) {
    state.unsent.set(body.subject, body);
  }
  // Each leaves the tab's storage once the server has answered it: a tab closed while one
  // is being sent keeps it for the next time the page starts (its key makes a repeat safe).
  keep();
  for (const body of [...state.unsent.values()]) {
    const result = await sendVote(body);
    if (result.status === 401 || result.status === 403) return sessionEnded();
    state.unsent.delete(body.subject);
    keep();
    if (result.ok) {
      state.votes.push(result.data.id);
      reportVote(result.data, body.glitch_class);
    } else if (result.data?.code === "already_voted") {
      // answered since with another key (another tab): that answer stands, nothing to say
    } else if (result.data?.code === "not_assigned" && result.data.expired) {
      // Its glitch was handed out over 30 minutes before: not voted, it comes back.
      say(
        ["The vote kept on this tab came too long after its glitch was handed to you to count; that glitch will come back."],
        "wrong",
      );
    } else if (result.data?.code === "not_assigned") {
      say(["The vote kept on this tab was for a glitch not handed to you; it was not counted."], "wrong");
    } else {
      const why = result.data?.detail ?? `HTTP ${result.status}`;
      say([`The vote kept on this tab was not saved: ${why}`], "wrong");
    }
  }
}

// `parts`: strings (shown as text) and elements.
function say(parts, kind = "") {
  els.feedback.className = `feedback ${kind}`;
  els.feedback.replaceChildren(...parts);
}

// An answer that asking again will not change: a 4xx other than 408 (timeout) and 429 (too
// many requests, e.g. a proxy's rate limit), which are asked again like a 5xx.
const refusal = (r) => r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429;

// While the server cannot be reached or fails (`status`: its HTTP status; none when the
// request itself failed), say so; once it answers again, take that back.
function connection(up, status) {
  if (up) {
    if (els.feedback.classList.contains("offline")) say([]);
    return;
  }
  const why = status ? `The server is busy or failing (HTTP ${status})` : "The server cannot be reached";
  say([`${why}: trying again. A vote you make is kept and sent once it answers.`], "offline");
}

// Ask until the answer is `done` (network errors and the rest are tried again, waiting longer
// each time, up to 8 s).
async function persist(request, done) {
  for (let attempt = 0; ; attempt++) {
    let status;
    try {
      const result = await request();
      if (done(result)) {
        connection(true);
        return result;
      }
      status = result.status;
    } catch {
      /* offline: try again */
    }
    connection(false, status);
    await sleep(Math.min(8000, 250 * 2 ** attempt));
  }
}

// Retried on network errors, 5xx, 408 and 429: the idempotency key makes a repeat harmless.
const sendVote = (body) =>
  persist(() => api("classifications/", { method: "POST", body }), (r) => r.ok || refusal(r));

// Keep exactly one subject waiting behind the one on screen (undefined: still loading,
// null: the queue is empty). Subjects with a vote on its way are excluded. `source`, when
// given, is a vote on its way whose answer carries that subject (one request, not two).
let refilling = null;
function refill(source) {
  if (refilling) return refilling;
  const subject = source
    ? source.then((r) => (r.ok && r.data && "next" in r.data ? preload(r.data.next) : fetchNext()))
    : fetchNext();
  refilling = subject
    .then((s) => {
      state.next = s;
    })
    .finally(() => {
      refilling = null;
    });
  return refilling;
}

// `subject`, when given: the glitch voted on, shown small beside a training glitch's answer
// (it has left the screen by the time the answer comes).
function reportVote(r, className, subject) {
  const name = (s) => s.replaceAll("_", " ");
  // what became of the glitch: its page (consensus, the model's view once retired, Talk)
  const link = h("a", { href: `/subjects/${Number(r.subject)}/`, dataset: { testid: "voted-glitch" } }, "See this glitch");
  if (r.gold) {
    const answer = h("b", {}, name(r.gold.right_answer));
    const view = subject?.images.find((im) => im.duration === 1) ?? subject?.images[0];
    const thumb = view
      ? h("img", { src: view.url, alt: "the training glitch you answered", className: "feedback-thumb" })
      : null;
    say(
      r.gold.correct
        // no article before a class name: "a Air Compressor", "a None of the Above"
        ? [thumb, "✓ Right! That training glitch's answer is ", answer, ". ", link]
        : [thumb, "✗ That training glitch's answer is ", answer, `, not ${name(className)}. `, link],
      r.gold.correct ? "right" : "wrong",
    );
  } else if (r.late) {
    say([`Vote saved: ${name(className)}. That glitch had already retired, so its label stays as it was. `, link]);
  } else {
    say([`Vote saved: ${name(className)}. `, link]);
  }
  renderProgress(r.progress);
}

// A level-up's new classes are asked for until they come (waiting longer each time, up to
// 8 s); meanwhile the classes so far keep their buttons and keys, and the page says so. One
// loop asks, whatever the number of level-ups: a level-up while it asks raises the level it
// announces, and a list asked for before that level-up is asked for again. A session ended
// (401/403) goes to the login (sessionEnded). Before, each level-up started a loop of its
// own that asked every 8 s for good, a 403 too, and an older loop's answer could come last.
// Resolves once the first answer is shown.
const promotion = { level: 0, asking: null };

function announcePromotion(level) {
  promotion.level = Math.max(promotion.level, level);
  if (!promotion.asking) {
    promotion.asking = new Promise((shown) => {
      askForClasses(shown).finally(() => {
        promotion.asking = null;
      });
    });
  }
  return promotion.asking;
}

async function askForClasses(shown) {
  for (let attempt = 0; ; attempt++) {
    const level = promotion.level;
    const { ok, status, data } = await api("classes/?unlocked=1").catch(() => ({}));
    if (status === 401 || status === 403) {
      shown();
      return sessionEnded();
    }
    if (ok && Array.isArray(data)) {
      if (level === promotion.level) {
        newClasses(level, data);
        return shown();
      }
      attempt = -1; // asked for before the last level-up: asked for again at once
      continue;
    }
    const why = status ? `HTTP ${status}` : "the server cannot be reached";
    els.levelup.replaceChildren(
      h("b", { dataset: { testid: "promoted" } }, `Level ${promotion.level}!`),
      ` Your new classes could not be loaded yet (${why}): trying again. Your classes so far work as before.`,
    );
    els.levelup.hidden = false;
    shown();
    await sleep(Math.min(8000, 500 * 2 ** attempt));
  }
}

function newClasses(level, data) {
  const known = new Set(state.classes.map((c) => c.name));
  state.classes = data;
  const focused = document.activeElement?.closest?.("button[data-class]")?.dataset.class;
  renderChoices();
  // the buttons were made anew: focus goes back to the same class's, not to the page
  if (focused) els.choices.querySelector(`button[data-class="${CSS.escape(focused)}"]`)?.focus();
  const added = data.filter((c) => !known.has(c.name)).map((c) => c.display_name);
  els.levelup.replaceChildren(
    h("b", { dataset: { testid: "promoted" } }, `Level ${level}!`),
    ` New classes: ${added.join(", ")}. Their keys are on the buttons.`,
  );
  els.levelup.hidden = false;
}

async function vote(className, pressedAt) {
  if (!state.current || state.busy || state.voted) return; // one vote per glitch shown
  if (state.undoing) {
    // the vote being taken back brings its glitch back: this one would be left behind
    say(["Not counted: your last vote is being undone; its glitch comes back once it is."], "wrong");
    return;
  }
  if (state.shownAt === null) return picturesWait(state.current, "Not counted: ");
  if (pressedAt - state.shownAt < MIN_VIEW_MS) return; // pressed before it could be seen
  state.voted = true; // until show() paints the next glitch, even while we wait below
  const subject = state.current;
  const body = {
    subject: subject.id,
    assignment: subject.assignment,
    glitch_class: className,
    idempotency_key: uuid4(),
    seconds_taken: Math.round(pressedAt - state.shownAt) / 1000,
  };
  state.unsent.set(subject.id, body); // until the server has it
  keep();
  let storedAs;
  const pressed = { subject, stored: new Promise((resolve) => (storedAs = resolve)) };
  state.lastVote = pressed;
  state.sending.add(pressed);
  try {
    storedAs(await cast(subject, body, className, pressedAt));
  } catch (error) {
    storedAs(null);
    throw error;
  } finally {
    state.sending.delete(pressed);
  }
}

// The vote on `subject` (vote): the next glitch is shown and the vote sent. Resolves to the
// stored vote's id, null when it was not stored or is a training glitch's answer (which the
// server never undoes: an undo waiting on it took it back and its refusal replaced the right
// answer, shown for a moment only).
async function cast(subject, body, className, pressedAt) {
  if (state.next && Date.now() - state.next.fetchedAt > STALE_MS) state.next = undefined;
  if (state.next === undefined) {
    state.busy = true;
    app.dataset.state = "loading";
    try {
      await refill(); // tried until the server answers: the vote waits, and is sent then
    } catch (error) {
      state.voted = false; // not sent: the glitch on screen takes a key again
      state.unsent.delete(subject.id);
      keep();
      app.dataset.state = "ready";
      say([`The next glitch could not be loaded (${error.message}): vote again.`], "wrong");
      return null;
    } finally {
      state.busy = false;
    }
  }
  state.inFlight.add(subject.id);
  app.dataset.pending = String(state.inFlight.size);
  show(state.next);
  state.next = undefined;
  if (state.current) {
    body.with_next = true; // the answer brings the subject after the one now on screen
    body.exclude = [state.current.id, ...state.inFlight, ...passedIds()];
    body.tab = tabId;
  }
  nextPaint().then(() => {
    const ms = performance.now() - pressedAt;
    window.glitchlabTimings.push(ms);
    app.dataset.lastSwapMs = ms.toFixed(1);
  });
  const sending = sendVote(body);
  if (state.current) refill(sending).catch(() => {}); // a refusal is said when the next vote waits for it
  const result = await sending;
  state.inFlight.delete(subject.id);
  if (result.status !== 401 && result.status !== 403) {
    state.unsent.delete(subject.id);
    keep();
  }
  if (result.ok) {
    if (!state.votes.includes(result.data.id)) state.votes.push(result.data.id);
    // An undo waiting for this vote says what became of it; "Vote saved" would say otherwise
    // for a moment. A training glitch's answer is said all the same: it cannot be undone.
    if (state.undoing && !result.data.gold) renderProgress(result.data.progress);
    else reportVote(result.data, className, subject);
    if (result.data.promoted) announcePromotion(result.data.progress.level);
  } else if (result.status === 401 || result.status === 403) {
    sessionEnded();
    return null;
  } else if (result.data?.code === "not_assigned" && result.data.expired) {
    // Its assignment ran out (the glitch waited over 30 minutes): not voted, so it comes back.
    say(["That glitch was on screen too long for your vote to count; it will come back."], "wrong");
  } else if (result.data?.code === "already_voted") {
    // Tabs are handed glitches of their own (tabId), but meet one when nothing else is left,
    // after a few minutes away, or while the server's cache is down.
    // News, not a mistake (neutral, not "wrong"); the next glitch named only where there is
    // one (it said "here is the next one" above "No more glitches for you right now"); the
    // counts are the server's, that vote in them.
    const next = state.current ? " Here is the next one." : "";
    say([`You already labelled this glitch in another tab (that vote stands).${next}`]);
    if (result.data.progress) renderProgress(result.data.progress);
    handOutAgain().catch(() => {}); // not waited for: the page takes keys meanwhile
  } else {
    say([result.data?.detail ?? "That vote was not accepted."], "wrong");
  }
  app.dataset.pending = String(state.inFlight.size);
  return result.ok && !result.data.gold ? result.data.id : null;
}

// A vote refused as answered already was answered in another tab (handed the same glitch:
// the last one left, or the other tab's hold lapsed), and so may the glitch now on screen have been: the server is asked again,
// and what it hands out replaces it unless it is the same. (The preloaded glitch was asked for
// after the refusal: refill.)
async function handOutAgain() {
  const shown = state.current;
  await refilling;
  if (!shown || state.current !== shown || state.voted) return;
  const fresh = await fetchNext(() => [state.next?.id, ...state.inFlight, ...passedIds()]);
  if (fresh && fresh.id !== shown.id && state.current === shown && !state.voted) show(fresh);
}

// The glitch on screen, whose pictures could not be loaded or are slow (picturesWait), is passed over: not
// voted on, not handed to this tab again for a while (state.passed), and the server is told,
// which checks its files (POST subjects/<id>/unseen/: broken there too, it leaves the queue
// and is no longer this volunteer's training glitch due). The next glitch is shown as after
// a vote.
async function passOver() {
  const subject = state.current;
  if (!subject?.offer || state.shownAt !== null || state.busy || state.voted) return;
  state.voted = true; // one way off this glitch
  const others = state.passed.filter(([id]) => id !== subject.id);
  state.passed = [...others, [subject.id, Date.now()]].slice(-PASSED_MAX);
  try {
    const kept = { volunteer: boot.volunteer, passed: state.passed };
    sessionStorage.setItem(PASSED, JSON.stringify(kept));
  } catch {
    /* storage full or refused: passed over until the page is left */
  }
  const told = { method: "POST", body: { assignment: subject.assignment } };
  api(`subjects/${subject.id}/unseen/`, told).catch(() => {}); // nothing waits for it
  if (state.next && (state.next.id === subject.id || Date.now() - state.next.fetchedAt > STALE_MS)) {
    state.next = undefined;
  }
  if (state.next === undefined) {
    state.busy = true;
    app.dataset.state = "loading";
    try {
      await refill(); // tried until the server answers
    } catch (error) {
      state.voted = false;
      app.dataset.state = "ready";
      say([`The next glitch could not be loaded (${error.message}).`], "wrong");
      return;
    } finally {
      state.busy = false;
    }
  }
  show(state.next);
  state.next = undefined;
  if (state.current) refill().catch(() => {}); // said, if it matters, when a vote waits for it
}

// An undo pressed while the latest vote is still being sent (a slow link: a careless key
// corrected at once) waits for it to be stored and takes back that vote, once: a second press
// meanwhile adds nothing, and a class key meanwhile is not counted (vote). Before, it did
// nothing and said nothing, and the vote counted.
async function undo() {
  if (state.undoing) return; // already waiting to take back the latest vote
  if (state.sending.size) {
    const pressed = state.lastVote;
    state.undoing = true;
    say([`Your vote on glitch #${pressed.subject.id} is still being sent: it will be undone once it is stored.`]);
    let id;
    try {
      // the votes before it too: the server undoes only the volunteer's last vote stored
      [id] = await Promise.all([pressed.stored, ...[...state.sending].map((v) => v.stored)]);
    } finally {
      state.undoing = false;
    }
    // Not stored (refused, or not sent: the page said why), or a training glitch's answer
    // (said, and it counts): there is nothing to take back.
    if (id !== null) await takeBack(id);
    return;
  }
  if (state.busy) return; // an undo or a passed-over glitch's next is on its way
  if (!state.votes.length) {
    say(["Nothing to undo: no vote from this page is left to take back."], "wrong");
    return;
  }
  // The undo names the vote (the latest stored: ids grow), so a repeat cannot take back
  // the one before.
  await takeBack(Math.max(...state.votes));
}

async function takeBack(last) {
  state.busy = true;
  let answer;
  try {
    const body = { classification: last, tab: tabId }; // its glitch comes back to this tab
    answer = await api("classifications/undo/", { method: "POST", body });
  } catch {
    say(["The server cannot be reached: nothing was undone. Try again once it answers."], "wrong");
    return;
  } finally {
    state.busy = false; // else no key would work again
  }
  const { ok, data } = answer;
  if (!ok) {
    say([data?.detail ?? "Nothing to undo."], "wrong");
    return;
  }
  state.votes = state.votes.filter((id) => id !== last);
  // The glitch on screen becomes the next one again; the undone one comes back.
  if (state.current) state.next = state.current;
  show(preload(data.subject));
  renderProgress(data.progress);
  say(["Your last vote was undone: vote again."], "undone");
}

function enlarge(slot) {
  const already = els.durations.dataset.single === String(slot);
  if (already || slot === null) {
    delete els.durations.dataset.single;
  } else {
    els.durations.dataset.single = String(slot);
  }
}

// A volunteer who asked their system for less motion gets the drawer scrolled into view in
// one step: a smooth scroll is the kind of motion the setting is for.
const lessMotion = matchMedia("(prefers-reduced-motion: reduce)");

function toggleGuide() {
  els.guide.hidden = !els.guide.hidden;
  els.guideToggle.setAttribute("aria-expanded", String(!els.guide.hidden));
  const behavior = lessMotion.matches ? "auto" : "smooth";
  if (!els.guide.hidden) els.guide.scrollIntoView({ behavior, block: "nearest" });
}

// The keys the page answers to besides the classes' (enlarge a view, undo, the guide).
const PAGE_KEYS = ["1", "2", "3", "4", "escape", "backspace", "?"];

// The page's name for a key press. On a layout without Latin letters (Russian: the B key
// gives "и") the class keys matched nothing, and nothing was said: a character outside ASCII
// is read by where its key sits (event.code: KeyB -> "b"). An ASCII letter is taken as it
// is: on AZERTY the key marked A sits at KeyQ, and must not vote Q. The digit row is read by
// where it sits whatever it gives when that is none of the page's keys: AZERTY's "&" and
// Czech's "+" (Digit1) enlarged nothing, so 1 worked on neither (the day's-diff review).
function pageKey(event) {
  const key = event.key.toLowerCase();
  const known = PAGE_KEYS.includes(key) || state.classes.some((c) => c.key === key);
  if (known || [...key].length !== 1) return key;
  const digit = /^Digit([0-9])$/.exec(event.code);
  if (digit) return digit[1];
  if (/^[\x00-\x7f]$/.test(key)) return key;
  const letter = /^Key([A-Z])$/.exec(event.code);
  return letter ? letter[1].toLowerCase() : key;
}

document.addEventListener("keydown", (event) => {
  // Enter held on a focused button (a class, Undo) clicks it again at every repeat: one
  // vote per repeat, a glitch nobody looked at each time. A held key acts once.
  if (event.repeat && event.key === "Enter" && event.target.closest("button")) {
    event.preventDefault();
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target.closest("input, textarea, select")) return;
  const key = pageKey(event);
  const choice = state.classes.find((c) => c.key === key);
  if (choice || key === "backspace") event.preventDefault();
  if (event.repeat) return; // a held key acts once: its repeats vote or undo nothing
  if (["1", "2", "3", "4"].includes(key)) return enlarge(Number(key));
  if (key === "escape") return enlarge(null);
  if (key === "backspace") return undo();
  if (key === "?") return toggleGuide();
  if (choice) vote(choice.name, event.timeStamp); // same clock as performance.now()
});

els.choices.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-class]");
  if (!button) return;
  // A pointer's click leaves no focus behind (none is drawn for it): Space, to scroll, or
  // Enter voted that class again on the next glitch. A key's click (detail 0) keeps it.
  if (event.detail > 0) button.blur();
  vote(button.dataset.class, performance.now());
});
els.undo.addEventListener("click", undo);
els.guideToggle.addEventListener("click", toggleGuide);
els.slots.forEach((slot) =>
  slot.addEventListener("click", () => enlarge(Number(slot.dataset.slot))),
);

// Back to this page from the back/forward cache: it is as it was left (its glitch may have
// been voted on since, its progress is old), so it starts again; its unsent votes are kept.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) window.location.reload();
});

renderChoices();
renderProgress(boot.progress);
await resendKept(); // before asking for a glitch: the one voted on is then not handed out again
try {
  show(await fetchNext());
} catch (error) {
  say([`No glitch could be handed out (${error.message}). Reload the page to try again.`], "wrong");
}
app.dataset.pending = "0";
if (state.current) await refill().catch(() => {}); // said, if it matters, when a vote waits for it
