"""bench/mislabel.py --help says what the bench asks in a whole sentence."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_help_describes_the_bench_in_a_whole_sentence():
    done = subprocess.run(
        [sys.executable, "bench/mislabel.py", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    description = " ".join(done.stdout.split("\n\n")[1].split())
    assert description == (
        "Mislabel finding: flip labels the way volunteers confuse classes; does ml.audit put "
        "the flips at the top of the review queue, and suggest their true class?"
    )
