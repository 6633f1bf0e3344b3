"""Mislabel finding: flip labels the way volunteers confuse classes; does ml.audit put the
flips at the top of the review queue, and suggest their true class?

Data. A retired set of simulated glitches (ml/synth crop style, 50 per class, 22 classes:
bench/active_learning.py's pool), embedded once with frozen ImageNet EfficientNet-Lite0
(the ranking job's default features; cached under var/bench/, shared with that bench).

Noise (--noise-model). 5% of the labels are moved to another class:
* `confusions` (default): to a class volunteers confuse with the true one. Only glitches
  of a class in a pair below are flipped, to one of its partners (drawn evenly). The pairs
  are our reading of the morphologies in ../shared/docs/DOMAIN.md, not measured Gravity
  Spy confusion rates:
    Blip <-> Koi_Fish          a faint Koi Fish is a blip; the fins are the only cue
    Blip <-> Tomte             both short and low; the Tomte's broader base is the cue
    Blip <-> Repeating_Blips   one blip, or several that happen to fall in the window
    Koi_Fish <-> Extremely_Loud   both loud and broadband; it is a matter of how long
    Whistle <-> Chirp          narrow tracks rising in frequency: a V, or a hook at the end
    Scattered_Light <-> Low_Frequency_Lines   arches or lines, both below ~100 Hz
    Power_Line <-> Violin_Mode    short narrow-band features: 60 Hz or ~500 Hz harmonics
    Low_Frequency_Burst <-> Tomte  a hump or a pointed hat rising from the bottom
* `uniform`: to any other class, evenly (this bench's first version). Easier: a random
  wrong class is usually far from the glitch in feature space.

Votes (--votes N, default 3). Every glitch gets 0..N simulated volunteers (evenly, so a
quarter of them have one lone vote), who answer blind to the label (as on gold subjects):
right with probability --vote-accuracy, else a confusable partner of the true class
(confusions; any other class where it has none) or any other class (uniform). A vote's
column W is P(true class | answer) under those error rates: what GlitchLab's weight learns
from a volunteer's gold answers (a "Koi_Fish" vote leaves much of its weight on Blip).

Tune and report. The pool is split in two halves, per class. Settings are scored on the
"tune" half, flip seeds 0..S-1, under both noise models (--tune-on), and the best by the
mean of their top-k precisions wins: one default has to hold whichever way the crowd errs
(on confusions alone, issues-first ordering won by 0.02, within the seeds' noise, and lost
0.13 under uniform noise). First the ranking (the head's C; cleanlab's rank_by and
adjust_pred_probs; issues first or not) without votes, since the command line and subjects
nobody voted on have none; then the model's worth in votes (model_votes) with them. The
winner runs once on the "report" half, flip seeds 100..100+S-1, under --noise-model:
quote those numbers. For comparison (not chosen) the best rankings picked with the votes
are printed too. --baseline FILE ranks the same report flips with another ml/audit.py at
its own defaults (e.g. the hand-written confident learning that cleanlab replaced:
`git show d0b7088:ml/audit.py > /tmp/old_audit.py`).

Metrics (k = the number flipped): top-k precision (= recall); cleanlab's flags: how many,
their precision and recall; suggestion: the share of the flipped glitches whose suggested
class is their true one (what a reviewer's "relabel" key would set).

Real data (--real DIR, default ../shared/data/gravityspy-real when present; --no-real):
the 242 real Gravity Spy glitches (frozen Lite0 features of all their views, cached), 7
labels flipped per seed with the confusion model (10 seeds), no votes, ranked with the
settings chosen on the synthetic tune half (nothing is tuned on real data). Reported for
all glitches and for the 226 of the classes with at least 5 glitches: 16 classes hold a
single field-guide example, which no out-of-fold model can vouch for.

How these numbers could be too optimistic:
* The simulator's glitches are cleaner and more alike within a class than real ones
  (compare the real row), and the flips are the only label errors: in a real set its own
  errors (the real set's Koi_Fish and Power_Line come from one volunteer's labels) would
  count as misses here, and k is known here, not to a reviewer.
* The confusion pairs and their even rates are a guess; a real crowd's errors concentrate
  on a few pairs and on faint glitches, which are the hardest to re-find.
* The simulated votes are blind to the label, as on gold subjects. A pool subject's
  retired label was made by its votes, so they agree with a wrong label far more often
  than here: the vote rows are an upper bound for pool subjects.
* Both halves come from one simulator run: the report half holds out glitches and flip
  draws, not conditions. The tune pick is the best of ~40 noisy scores, so its tune
  number is biased up; the report number is not, for that reason. Ten seeds of 28 flips
  leave about +-0.03 of seed noise on a mean top-k precision: smaller gaps mean nothing.
* The real row's labels are partly one volunteer's (see its README): a real error there
  that the audit ranks high counts against it, so that row can also be pessimistic.
* The bench sees 550 glitches per half; with the 22 classes at 25 each, a class's head is
  trained on ~20 glitches per fold, fewer than in a real audit (it can be pessimistic too).

    python bench/mislabel.py                         # tune, report (confusions), real
    python bench/mislabel.py --noise-model uniform --no-real
    python bench/mislabel.py --baseline /tmp/old_audit.py
    python bench/mislabel.py --features gaussian     # seconds: no images, a smoke run

Out-of-fold probabilities are cached per (features, split, flip, C) under var/bench/oof/:
a first run took ~4 min on 2 busy cores (features cached; simulating and embedding the pool
adds ~7 min once), a second one ~1 min. Writes var/bench/mislabel-<noise model>.json.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import itertools
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ml.audit import ORDERS, RANK_BY, MislabelFinder, out_of_fold_proba  # noqa: E402

OUT = ROOT / "var" / "bench"
POOL = OUT / "synth-al-50"  # bench/active_learning.py's simulated pool (50 per class)
REAL = ROOT.parent / "shared" / "data" / "gravityspy-real"
CONFUSIONS = (  # pairs volunteers confuse (see the module docstring for why)
    ("Blip", "Koi_Fish"),
    ("Blip", "Tomte"),
    ("Blip", "Repeating_Blips"),
    ("Koi_Fish", "Extremely_Loud"),
    ("Whistle", "Chirp"),
    ("Scattered_Light", "Low_Frequency_Lines"),
    ("Power_Line", "Violin_Mode"),
    ("Low_Frequency_Burst", "Tomte"),
)
NOISE_MODELS = ("confusions", "uniform")
TUNE_SEEDS = 0  # flip seeds of the tune half start here, the report half's at REPORT_SEEDS
REPORT_SEEDS = 100
MODEL_VOTES = (1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 34.0, 55.0)  # the model's worth in votes


# --- data --------------------------------------------------------------------------------


def synth_pool(folder: Path, per_class: int, seed: int, workers: int = 2) -> None:
    """Simulate `per_class` crop-style glitches of every class into `folder` (one time)."""
    import importlib
    from concurrent.futures import ProcessPoolExecutor

    generate = importlib.import_module("ml.synth.generate")
    if (folder / "DONE").is_file():
        return
    labels = generate.resolve_classes(None, None)
    jobs = [(label, i) for i in range(per_class) for label in labels]
    print(f"simulating {len(jobs)} glitches into {folder} (one time) ...", flush=True)
    folder.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(generate.make_glitch, folder, label, i, seed, ["crop"]) for label, i in jobs
        ]
        for future in futures:
            future.result()
    (folder / "DONE").write_text("ok\n")


def image_features(
    data: Path, image_size: int, *, complete_only: bool = True
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(N, 1280) frozen Lite0 features, (N,) int labels, class names; cached as .npz.

    complete_only: only glitches with all four views (a pool being simulated may hold a
    half-written one); the cache key is then bench/active_learning.py's, so a pool it
    embedded is not embedded again. The real set needs every glitch (most lack a view).
    """
    from ml.data import load_samples

    samples = [
        s
        for s in load_samples([data]).samples
        if s.label is not None and not (complete_only and s.substituted)
    ]
    key = hashlib.sha256(
        f"{data.resolve()}|{image_size}|{len(samples)}|{samples[0].id}|{samples[-1].id}".encode()
    ).hexdigest()[:16]
    names = sorted({str(s.label) for s in samples})
    labels = np.array([names.index(str(s.label)) for s in samples])
    for cache in (OUT / f"al-features-{key}.npz", OUT / f"mislabel-features-{key}.npz"):
        if cache.is_file():
            return np.load(cache)["x"], labels, names
    import torch

    from ml.backbones import DEFAULT_BACKBONE, build_backbone
    from ml.embed import embed
    from ml.encoding import encode_samples

    started = time.perf_counter()
    images = encode_samples(samples, "rgb-durations", image_size, cache_dir=OUT / "encoded")
    extractor, _ = build_backbone(DEFAULT_BACKBONE, pretrained=True)
    with torch.inference_mode():
        x = embed(extractor.to(torch.device("cpu")), np.asarray(images), batch_size=64)
    print(f"decoded + embedded {len(samples)} glitches in {time.perf_counter() - started:.0f} s")
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(OUT / f"mislabel-features-{key}.npz", x=x)
    return x, labels, names


def gaussian_features(n_classes: int, per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping Gaussian clusters: a fast stand-in for real features (smoke runs)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_classes, 64)) * 1.2
    labels = np.repeat(np.arange(n_classes), per_class)
    return centres[labels] + rng.normal(size=(len(labels), 64)), labels


def halves(labels: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(tune, report) sorted indices: each class split in two halves at random."""
    rng = np.random.default_rng(seed)
    tune, report = [], []
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        tune.append(members[: len(members) // 2])
        report.append(members[len(members) // 2 :])
    return np.sort(np.concatenate(tune)), np.sort(np.concatenate(report))


# --- noise and votes ---------------------------------------------------------------------


def partners(names: list[str], noise_model: str) -> list[list[int]]:
    """Per class index, the classes a label of it may be flipped (or misvoted) to."""
    if noise_model == "uniform":
        return [[j for j in range(len(names)) if j != i] for i in range(len(names))]
    out: list[list[int]] = [[] for _ in names]
    for a, b in CONFUSIONS:
        if a in names and b in names:
            out[names.index(a)].append(names.index(b))
            out[names.index(b)].append(names.index(a))
    return out


def flip_labels(
    labels: np.ndarray, names: list[str], n_flip: int, seed: int, noise_model: str
) -> tuple[np.ndarray, np.ndarray]:
    """Move `n_flip` random glitches (of classes that have a partner among the classes
    present) to a partner class. Returns (noisy labels (N,) int, flipped indices)."""
    rng = np.random.default_rng(1000 + seed)
    present = set(np.unique(labels).tolist())
    table = [[j for j in row if j in present] for row in partners(names, noise_model)]
    eligible = np.flatnonzero([bool(table[c]) for c in labels])
    flipped = np.sort(rng.choice(eligible, size=min(n_flip, len(eligible)), replace=False))
    noisy = labels.copy()
    for i in flipped:
        noisy[i] = rng.choice(table[labels[i]])
    return noisy, flipped


def vote_columns(names: list[str], accuracy: float, noise_model: str) -> np.ndarray:
    """(K answers, K) W: row a is P(true class | answer a) for a volunteer who is right with
    probability `accuracy` and otherwise names a partner of the true class (any other class
    where it has none), the classes equally likely a priori. It is what GlitchLab's weight
    converges to from that volunteer's gold answers; under uniform noise it is `accuracy` on
    the answer and the rest spread evenly."""
    n_classes = len(names)
    table = partners(names, noise_model)
    anywhere = partners(names, "uniform")
    answer_given_true = np.zeros((n_classes, n_classes))  # [true, answer]
    for t in range(n_classes):
        wrong = table[t] or anywhere[t]
        answer_given_true[t, wrong] = (1 - accuracy) / len(wrong)
        answer_given_true[t, t] = accuracy
    return (answer_given_true / answer_given_true.sum(0, keepdims=True)).T


def simulated_votes(
    truth: np.ndarray,
    names: list[str],
    max_votes: int,
    accuracy: float,
    seed: int,
    noise_model: str,
) -> tuple[np.ndarray, np.ndarray]:
    """(N, K) mean vote column W per glitch (NaN rows without votes), (N,) vote counts.

    0..max_votes volunteers per glitch, blind to the label: right with probability
    `accuracy`, else a partner of the true class (any other class where it has none)."""
    rng = np.random.default_rng(2000 + seed)
    table = partners(names, noise_model)
    anywhere = partners(names, "uniform")
    columns = vote_columns(names, accuracy, noise_model)
    counts = rng.integers(0, max_votes + 1, size=len(truth))
    mean = np.full((len(truth), len(names)), np.nan)
    for i, t in enumerate(truth):
        if counts[i]:
            wrong = rng.choice(table[t] or anywhere[t], size=counts[i])
            answers = np.where(rng.random(counts[i]) < accuracy, t, wrong)
            mean[i] = columns[answers].mean(0)
    return mean, counts


# --- one audit ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One flipped set: features, true and noisy labels, which were flipped, votes."""

    x: np.ndarray  # (N, D) float
    truth: np.ndarray  # (N,) int
    noisy: np.ndarray  # (N,) int
    flipped: np.ndarray  # indices
    votes: np.ndarray  # (N, K) float, NaN rows without votes
    n_votes: np.ndarray  # (N,) int
    seed: int


def make_cases(
    x: np.ndarray,
    truth: np.ndarray,
    names: list[str],
    args: argparse.Namespace,
    seeds: range,
    noise_model: str,
) -> list[Case]:
    n_flip = max(1, round(args.noise * len(truth)))
    cases = []
    for seed in seeds:
        noisy, flipped = flip_labels(truth, names, n_flip, seed, noise_model)
        votes, n_votes = simulated_votes(
            truth, names, args.votes, args.vote_accuracy, seed, noise_model
        )
        cases.append(Case(x, truth, noisy, flipped, votes, n_votes, seed))
    return cases


def oof(case: Case, n_classes: int, c: float, args: argparse.Namespace) -> np.ndarray:
    """The out-of-fold probabilities of a case, cached under var/bench/oof/."""
    digest = hashlib.sha256()
    for part in (case.x.astype(np.float32), case.noisy.astype(np.int64)):
        digest.update(np.ascontiguousarray(part).tobytes())
    digest.update(f"{n_classes}|{c}|{args.folds}|{args.pca}|{case.seed}".encode())
    cache = OUT / "oof" / f"{digest.hexdigest()[:20]}.npy"
    if cache.is_file():
        return np.load(cache)
    probs = out_of_fold_proba(
        case.x,
        case.noisy,
        n_classes,
        n_splits=args.folds,
        c=c,
        n_components=args.pca or None,
        random_state=case.seed,
    )
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, probs)
    return probs


def score(finder: Any, case: Case, k: int | None = None) -> dict[str, float]:
    """Top-k precision (k = flips unless given), cleanlab's flags, suggestion accuracy."""
    flipped = set(case.flipped.tolist())
    k = k or len(flipped)
    top = {row.index for row in finder.rows_[:k]}
    found = set(np.flatnonzero(finder.issues_).tolist())
    suggested = {row.index: row.suggested for row in finder.rows_}
    return {
        "topk_precision": len(top & flipped) / k,
        "flags": len(found),
        "flag_precision": len(found & flipped) / max(len(found), 1),
        "flag_recall": len(found & flipped) / len(flipped),
        "suggestion": float(np.mean([suggested[i] == case.truth[i] for i in flipped])),
    }


def mean_scores(rows: list[dict[str, float]]) -> dict[str, float]:
    out = {key: float(np.mean([r[key] for r in rows])) for key in rows[0]}
    out["topk_precision_min"] = float(np.min([r["topk_precision"] for r in rows]))
    return out


def ranking_settings(c_grid: list[float]) -> list[dict[str, Any]]:
    """Every (C, rank_by, adjust, order) cleanlab allows."""
    grid = []
    for c, rank_by, adjust, order in itertools.product(c_grid, RANK_BY, (False, True), ORDERS):
        if not (adjust and rank_by == "confidence_weighted_entropy"):
            grid.append({"c": c, "rank_by": rank_by, "adjust": adjust, "order": order})
    return grid


def evaluate(
    setting: dict[str, Any],
    cases: list[Case],
    n_classes: int,
    args: argparse.Namespace,
    *,
    with_votes: bool,
) -> dict[str, float]:
    rows = []
    for case in cases:
        probs = oof(case, n_classes, setting["c"], args)
        ranking = {k: v for k, v in setting.items() if k != "c"}
        finder = MislabelFinder(**ranking)
        if with_votes:
            finder.fit_proba(probs, case.noisy, votes=case.votes, n_votes=case.n_votes)
        else:
            finder.fit_proba(probs, case.noisy)
        rows.append(score(finder, case))
    return mean_scores(rows)


def evaluate_baseline(
    module: ModuleType,
    cases: list[Case],
    n_classes: int,
    args: argparse.Namespace,
    *,
    with_votes: bool,
) -> dict[str, float]:
    """Another ml/audit.py at its defaults (its C: the first version's 0.05; its own vote
    blend, fed the mean vote columns)."""
    finder_class = module.MislabelFinder
    rows = []
    for case in cases:
        probs = oof(case, n_classes, finder_class().c, args)
        finder = finder_class()
        if with_votes:
            finder.fit_proba(probs, case.noisy, votes=case.votes)
        else:
            finder.fit_proba(probs, case.noisy)
        rows.append(score(finder, case))
    return mean_scores(rows)


def describe(setting: dict[str, Any]) -> str:
    parts = [f"C={setting['c']}", setting["rank_by"]]
    parts += ["adjusted"] if setting["adjust"] else []
    parts += ["issues first"] if setting["order"] == "issues_first" else []
    parts += [f"model={setting['model_votes']:g} votes"] if "model_votes" in setting else []
    return ", ".join(parts)


def line(label: str, result: dict[str, float]) -> str:
    return (
        f"{label:52s} top-k {result['topk_precision']:.3f} (min {result['topk_precision_min']:.3f})"
        f" | flags {result['flags']:5.1f} precision {result['flag_precision']:.3f}"
        f" recall {result['flag_recall']:.3f} | suggestion {result['suggestion']:.3f}"
    )


def load_baseline(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("baseline_audit", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


# --- the runs ----------------------------------------------------------------------------


def tune_line(label: str, by_noise: dict[str, dict[str, float]]) -> str:
    parts = [f"{noise} {result['topk_precision']:.3f}" for noise, result in by_noise.items()]
    mean = np.mean([result["topk_precision"] for result in by_noise.values()])
    suggestion = np.mean([result["suggestion"] for result in by_noise.values()])
    return f"{label:52s} top-k {' '.join(parts)} mean {mean:.3f} | suggestion {suggestion:.3f}"


def choose(
    settings: list[dict[str, Any]],
    tune: dict[str, list[Case]],
    n_classes: int,
    args: argparse.Namespace,
    *,
    with_votes: bool,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The setting with the best mean top-k precision over the tune noise models (ties: the
    better suggestion, then the first listed), and every setting's scores."""
    tried = []
    for setting in settings:
        by_noise = {
            noise: evaluate(setting, cases, n_classes, args, with_votes=with_votes)
            for noise, cases in tune.items()
        }
        print(tune_line(describe(setting), by_noise), flush=True)
        mean = float(np.mean([r["topk_precision"] for r in by_noise.values()]))
        suggestion = float(np.mean([r["suggestion"] for r in by_noise.values()]))
        tried.append({"setting": setting, "mean": mean, "suggestion": suggestion, **by_noise})
    best = max(enumerate(tried), key=lambda t: (t[1]["mean"], t[1]["suggestion"], -t[0]))[1]
    print(f"   chosen: {describe(best['setting'])}")
    return best["setting"], tried


def any_ranking_with_votes(
    c: float, tune: dict[str, list[Case]], args: argparse.Namespace
) -> list[dict[str, Any]]:
    """For comparison only (not chosen): the best rankings when rank_by, adjust and order are
    picked with the votes instead of without them. The ranking is chosen without votes
    because the command line and subjects nobody voted on have none, and the simulated
    votes are the favourable (blind, gold-like) kind."""
    rows = []
    for setting in ranking_settings([c]):
        for m in MODEL_VOTES:
            full = {**setting, "model_votes": m}
            by_noise = {
                noise: evaluate(full, cases, len(cases[0].votes[0]), args, with_votes=True)
                for noise, cases in tune.items()
            }
            mean = float(np.mean([r["topk_precision"] for r in by_noise.values()]))
            rows.append({"setting": full, "mean": mean, **by_noise})
    rows.sort(key=lambda row: -row["mean"])
    print("   for comparison, the best with votes over every ranking (not chosen):")
    for row in rows[:3]:
        by_noise = {noise: row[noise] for noise in tune}
        print("   " + tune_line(describe(row["setting"]), by_noise))
    return rows[:10]


def tune_and_report(
    x: np.ndarray, y: np.ndarray, names: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    n_classes = len(names)
    tune_idx, report_idx = halves(y)
    tune_seeds = range(TUNE_SEEDS, TUNE_SEEDS + args.seeds)
    report_seeds = range(REPORT_SEEDS, REPORT_SEEDS + args.seeds)
    tune = {
        noise: make_cases(x[tune_idx], y[tune_idx], names, args, tune_seeds, noise)
        for noise in args.tune_on
    }
    report = make_cases(x[report_idx], y[report_idx], names, args, report_seeds, args.noise_model)
    print(
        f"tune: {len(tune_idx)} glitches, seeds {tune_seeds[0]}..{tune_seeds[-1]}, noise "
        f"{' + '.join(args.tune_on)}; report: {len(report_idx)} glitches, seeds "
        f"{report_seeds[0]}..{report_seeds[-1]}, noise {args.noise_model}; "
        f"{len(report[0].flipped)} flips each; "
        f"{args.folds}-fold linear head on {args.pca or 'all'} PCA dims",
        flush=True,
    )
    started = time.perf_counter()
    print("-- tune, no votes: top-k precision per noise model")
    best, tried = choose(ranking_settings(args.c), tune, n_classes, args, with_votes=False)
    results: dict[str, Any] = {"chosen": best, "tune_rows": tried}
    chosen_votes = best
    if args.votes:
        print(f"-- tune, 0..{args.votes} votes per glitch (accuracy {args.vote_accuracy})")
        vote_settings = [{**best, "model_votes": m} for m in MODEL_VOTES]
        chosen_votes, tried = choose(vote_settings, tune, n_classes, args, with_votes=True)
        results["tune_vote_rows"] = tried
        results["tune_votes_any_ranking"] = any_ranking_with_votes(best["c"], tune, args)
    results["chosen_votes"] = chosen_votes
    print(f"-- report ({args.noise_model} noise; settings chosen on tune)")
    results["report"] = evaluate(best, report, n_classes, args, with_votes=False)
    print(line(describe(best), results["report"]))
    if args.votes:
        results["report_votes"] = evaluate(chosen_votes, report, n_classes, args, with_votes=True)
        print(line(f"{describe(chosen_votes)} + votes", results["report_votes"]))
    shipped = MislabelFinder()
    defaults = {
        "c": shipped.c,
        "rank_by": shipped.rank_by,
        "adjust": shipped.adjust,
        "order": shipped.order,
        "model_votes": shipped.model_votes,
    }
    if defaults != chosen_votes:  # the defaults were chosen under other conditions
        results["defaults"] = evaluate(defaults, report, n_classes, args, with_votes=False)
        print(line(f"ml.audit defaults: {describe(defaults)}", results["defaults"]))
        if args.votes:
            results["defaults_votes"] = evaluate(defaults, report, n_classes, args, with_votes=True)
            print(line("ml.audit defaults + votes", results["defaults_votes"]))
    if args.baseline:
        module = load_baseline(args.baseline)
        results["baseline"] = evaluate_baseline(module, report, n_classes, args, with_votes=False)
        print(line(f"baseline {args.baseline.name} defaults", results["baseline"]))
        if args.votes:
            results["baseline_votes"] = evaluate_baseline(
                module, report, n_classes, args, with_votes=True
            )
            print(line(f"baseline {args.baseline.name} + votes", results["baseline_votes"]))
    print(f"({time.perf_counter() - started:.0f} s)")
    return results


def real_row(
    chosen: dict[str, Any], args: argparse.Namespace, baseline: ModuleType | None
) -> dict[str, Any]:
    """Real glitches, 7 flips per seed with the confusion model, settings from tune."""
    x, y, names = image_features(args.real, args.image_size, complete_only=False)
    counts = np.bincount(y, minlength=len(names))
    print(f"-- real: {len(y)} glitches from {args.real}, {args.real_flips} confusion flips per")
    print(f"   seed, {args.real_seeds} seeds, settings from the synthetic tune half")
    results: dict[str, Any] = {}
    for subset, keep in (
        ("all glitches", np.arange(len(y))),
        (f"classes with >= {args.folds} glitches", np.flatnonzero(counts[y] >= args.folds)),
    ):
        xs, ys = x[keep], y[keep]
        new, old = [], []
        for seed in range(args.real_seeds):
            noisy, flipped = flip_labels(ys, names, args.real_flips, seed, "confusions")
            empty = np.full((len(ys), len(names)), np.nan)
            case = Case(xs, ys, noisy, flipped, empty, np.zeros(len(ys), int), seed)
            probs = oof(case, len(names), chosen["c"], args)
            ranking = {k: v for k, v in chosen.items() if k not in ("c", "model_votes")}
            new.append(score(MislabelFinder(**ranking).fit_proba(probs, noisy), case))
            if baseline is not None:
                finder = baseline.MislabelFinder()
                probs = oof(case, len(names), finder.c, args)
                old.append(score(finder.fit_proba(probs, noisy), case))
        label = f"{subset} ({len(ys)})"
        results[subset] = {"n": len(ys), "new": mean_scores(new)}
        print(line(f"{label}: {describe(chosen)}", results[subset]["new"]))
        if old:
            results[subset]["baseline"] = mean_scores(old)
            print(line(f"{label}: baseline", results[subset]["baseline"]))
    return results


def main() -> int:
    # The docstring's first paragraph: its first line alone stopped mid-sentence.
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--data", type=Path, help="labelled folder (default: the synth pool)")
    parser.add_argument("--per-class", type=int, default=50, help="glitches used per class")
    parser.add_argument("--noise", type=float, default=0.05, help="share of labels flipped")
    parser.add_argument(
        "--noise-model", choices=NOISE_MODELS, default="confusions", help="of the report half"
    )
    parser.add_argument(
        "--tune-on",
        nargs="+",
        choices=NOISE_MODELS,
        default=list(NOISE_MODELS),
        help="noise models whose tune halves choose the settings (mean top-k precision)",
    )
    parser.add_argument("--seeds", type=int, default=10, help="flips per half (tune, report)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--c", type=float, nargs="+", default=[0.05, 0.2, 1.0])
    parser.add_argument("--pca", type=int, default=64, help="0: the full feature width")
    parser.add_argument("--votes", type=int, default=3, help="up to N simulated votes (0: off)")
    parser.add_argument("--vote-accuracy", type=float, default=0.7)
    parser.add_argument("--features", choices=("images", "gaussian"), default="images")
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--baseline", type=Path, help="another ml/audit.py to compare")
    parser.add_argument("--real", type=Path, default=REAL if REAL.is_dir() else None)
    parser.add_argument("--no-real", dest="real", action="store_const", const=None)
    parser.add_argument("--real-flips", type=int, default=7)
    parser.add_argument("--real-seeds", type=int, default=10)
    args = parser.parse_args()

    if args.features == "gaussian":
        x, y = gaussian_features(22, args.per_class, 0)
        from ml.classes import CANONICAL_NAMES

        names = sorted(CANONICAL_NAMES)
        source = "gaussian"
    else:
        data = args.data or POOL
        if args.data is None and not (POOL / "DONE").is_file():
            synth_pool(data, args.per_class, seed=7)
        x, y, names = image_features(data, args.image_size)
        source = str(data)
    print(f"{len(y)} glitches, {len(names)} classes, {x.shape[1]}-d features from {source}")
    results = tune_and_report(x, y, names, args)
    if args.real is not None and args.features == "images":
        baseline = load_baseline(args.baseline) if args.baseline else None
        results["real"] = real_row(results["chosen"], args, baseline)
    OUT.mkdir(parents=True, exist_ok=True)
    summary = {"source": source, "n": len(y), "noise": args.noise, **vars(args), **results}
    (OUT / f"mislabel-{args.noise_model}.json").write_text(
        json.dumps(summary, indent=1, default=str)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
