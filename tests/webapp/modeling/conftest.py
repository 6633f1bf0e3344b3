"""The modelling tests share the tiny glitch subjects of tests/tasks/glitch_data.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tasks"))
