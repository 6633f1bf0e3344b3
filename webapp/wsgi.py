"""WSGI entry point (webapp.serve runs it under granian)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
application = get_wsgi_application()

# The code's version (git describe, up to 10 s) is read once, now: never in a request.
from webapp.labeling.exports import glitchlab_version  # noqa: E402 (needs the app loaded)

glitchlab_version()

# Move the loaded app's objects (Django, DRF, the models: about 120,000) out of the garbage
# collector's sight: otherwise every full collection walks them all while the process's
# threads wait (63 ms per full collection on the 2-core development machine, 10 ms frozen).
gc.collect()
gc.freeze()
