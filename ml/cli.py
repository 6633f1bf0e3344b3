"""Command line of ml/: `python -m ml <command> ...`; each command lives in its own module.

A command module defines `configure(parser)` (adds its arguments) and `run(args) -> int`.
Only the chosen command's module is imported, so `python -m ml synth` never loads torch.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ml.errors import UserError

# command -> (module, one-line help). The module is imported only when its command runs.
COMMANDS: dict[str, tuple[str, str]] = {
    "train": (
        "ml.commands.train",
        "fine-tune a CNN (or fit a head-only probe) on labelled glitches",
    ),
    "evaluate": ("ml.commands.evaluate", "top-1..5, per-class metrics and confusion of a model"),
    "predict": ("ml.commands.predict", "class probabilities for every glitch of a folder"),
    "embed": ("ml.commands.embed", "pooled CNN features of every glitch of a folder"),
    "synth": ("ml.synth.cli", "simulate labelled glitches rendered as Gravity Spy Omega scans"),
    "scan": ("ml.scan", "render Omega scans of real strain around trigger times"),
    "cluster": ("ml.commands.cluster", "group embeddings into clusters of similar glitches"),
    "audit": ("ml.commands.audit", "rank labelled glitches by how likely their label is wrong"),
    "duplicates": ("ml.commands.duplicates", "find one glitch saved under several ids"),
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m ml", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    if not argv or argv[0] not in COMMANDS:
        parser.parse_args(argv)  # prints usage / the error and exits
        return 2
    name = argv[0]
    module = importlib.import_module(COMMANDS[name][0])
    command_parser = argparse.ArgumentParser(
        prog=f"python -m ml {name}", description=COMMANDS[name][1]
    )
    module.configure(command_parser)
    args = command_parser.parse_args(argv[1:])
    try:
        return int(module.run(args) or 0)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (IsADirectoryError, NotADirectoryError, FileExistsError, PermissionError) as exc:
        # A path given where the other kind was wanted (--out a folder for a file, a file for
        # a folder) or not writable: the user's to fix, in one line.
        print(f"error: {exc.strerror}: {exc.filename}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        # Ctrl-C inside a library (torch's checkpoint writer) can surface as the error it
        # caused; the partial file is already gone (ml.files.atomic_write).
        if isinstance(exc.__context__, KeyboardInterrupt):
            print("interrupted", file=sys.stderr)
            return 130
        raise
