"""The train / evaluate / predict / embed commands of `python -m ml`, and what they share."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml.errors import UserError

if TYPE_CHECKING:
    from ml.data import LoadResult
    from ml.encoding import Decodable
    from ml.fingerprint import SplitGlitches
    from ml.model import LoadedModel


def at_least(minimum: float, kind: type = int, *, strictly: bool = False) -> Any:
    """An argparse `type` that refuses numbers below `minimum` (or equal, `strictly`) with
    argparse's one-line usage error, before any work starts (an audit's --c 0 was an
    sklearn traceback after every glitch had been embedded)."""

    def parse(text: str) -> Any:
        value = kind(text)
        if value < minimum or (strictly and value == minimum):
            raise argparse.ArgumentTypeError(
                f"{text} must be {'above' if strictly else 'at least'} {minimum}"
            )
        return value

    parse.__name__ = kind.__name__  # argparse names the type in "invalid int value"
    return parse


def add_data_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        action="append",
        required=True,
        metavar="DIR",
        help="folder of glitch images (or a manifest CSV); repeat for several",
    )


def add_encode_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cache-dir", type=Path, help="keep decoded images here as .npy")
    parser.add_argument("--workers", type=int, help="decoding processes (default: all cores)")


def load(
    data: Sequence[str],
    *,
    keep_unknown_labels: bool = False,
    class_names: Sequence[str] | None = None,
) -> list[Any]:
    """Samples of the --data roots (load_result, its samples)."""
    result = load_result(data, keep_unknown_labels=keep_unknown_labels, class_names=class_names)
    return list(result.samples)


def load_result(
    data: Sequence[str],
    *,
    keep_unknown_labels: bool = False,
    class_names: Sequence[str] | None = None,
) -> LoadResult:
    """ml.data.load_samples of the --data roots; load problems go to stderr as one warning line
    each, then one line counting what they left out. class_names: the classes folder names are
    read as (a model's), else the canonical 22. No glitch found is a UserError."""
    from ml.classes import ClassRegistry
    from ml.data import load_samples

    for root in data:
        if not Path(root).exists():
            raise UserError(f"--data {root}: no such file or folder")
    registry = ClassRegistry(class_names) if class_names is not None else None
    result = load_samples(list(data), registry=registry, keep_unknown_labels=keep_unknown_labels)
    for problem in result.problems:
        print(f"warning: {problem}", file=sys.stderr)
    if (left_out := result.left_out_line()) is not None:
        print(f"warning: {left_out}", file=sys.stderr)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if not result.samples and result.left_out:  # images there, none read: not "none found"
        raise UserError(f"no glitch of {', '.join(data)} could be read: {result.left_out_line()}")
    if not result.samples:
        raise UserError(f"no glitch images found in {', '.join(data)}")
    return result


def merged_split_glitches(samples: Sequence[Any]) -> SplitGlitches:
    """ml.fingerprint.SplitGlitches of the samples: each glitch saved under several ids made
    one (among the glitches that lack a duration), so that one glitch is not on both sides
    of a split, nor counted twice in a score; what was merged, and what looked alike but was
    kept apart, go to stderr. `.samples` is the merged list, `.merged` the ids of each."""
    from ml.fingerprint import merge_split_glitches

    split = merge_split_glitches(samples)
    for line in split.report({s.id: s.label for s in samples}):
        print(f"note: {line}", file=sys.stderr)
    return split


def seen_in_training(
    checkpoint: Path, samples: Sequence[Any], merged: Sequence[tuple[str, ...]]
) -> list[str]:
    """Ids of the samples (or of any id merged into one) that the model's folder (where its
    checkpoint file is) lists in ml.train.GLITCH_IDS_FILE as trained or validated on; []
    for a model without the list."""
    from ml.train import GLITCH_IDS_FILE

    listed = checkpoint.parent / GLITCH_IDS_FILE
    try:
        saw = json.loads(listed.read_text())
        ids = {str(i) for part in ("train", "validation") for i in saw.get(part, [])}
    except (OSError, ValueError, AttributeError):
        return []
    aliases = {group[0]: group for group in merged}
    return sorted(s.id for s in samples if ids.intersection(aliases.get(s.id, (s.id,))))


def warn_if_trained_on(
    model: LoadedModel, samples: Sequence[Any], merged: Sequence[tuple[str, ...]], why: str
) -> list[str]:
    """seen_in_training of the model, said on stderr as one warning line that ends with
    `why` it matters to the command (an evaluation's score is not a held-out one; an audit's
    features vouch for the labels they learnt); the ids, for the command's JSON."""
    assert model.path is not None  # load_model sets it
    seen = seen_in_training(model.path, samples, merged)
    if seen:
        shown = ", ".join(seen[:5]) + (", ..." if len(seen) > 5 else "")
        print(f"warning: {len(seen)} of the {len(samples)} glitches have the id of a glitch "
              f"this model was trained or validated on ({shown}): {why}",
              file=sys.stderr)  # fmt: skip
    return seen


def encode(
    samples: Sequence[Any],
    encoding: str,
    size: int,
    *,
    cache_dir: Path | None = None,
    workers: int | None = None,
) -> Decodable:
    """The samples' uint8 (K, 3, size, size) images, with a tqdm bar on stderr, less those a
    file of which does not decode (ml.encoding.encode_decodable): each is named on stderr
    as "warning: glitch <id> left out: <file>: <why>", and the command goes on with the
    rest, which it says it scored (one unreadable file stopped a whole evaluation). None
    decoding is a UserError."""
    from tqdm import tqdm

    from ml.encoding import encode_decodable

    with tqdm(total=len(samples), desc="decode", unit="img", file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.update(done - bar.n)

        decoded = encode_decodable(
            samples,
            encoding,
            size,
            workers=workers,
            cache_dir=cache_dir,
            progress=progress,
            warn=lambda line: print(f"warning: {line}", file=sys.stderr),
        )
    if samples and not decoded.samples:
        raise UserError(f"none of the {len(samples)} glitches could be read (above)")
    return decoded


def encode_for_model(model: Any, samples: Sequence[Any], args: argparse.Namespace) -> Decodable:
    """encode(), the way `model` was trained."""
    return encode(
        samples, model.encoding, model.image_size, cache_dir=args.cache_dir, workers=args.workers
    )
