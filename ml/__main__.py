"""Entry point: python -m ml train|evaluate|predict|embed|synth|scan ..."""

import sys

from ml.cli import main

sys.exit(main())
