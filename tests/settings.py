"""Settings of the test run: the app's own (webapp/settings.py), on a development machine.

DEBUG defaults to off, which needs a secret key and turns on HTTPS-only operation; the
tests run as a development machine does, with DEBUG=true in the environment, which the
Celery workers and manage.py processes they start inherit. pytest-django then turns
settings.DEBUG off while each test runs, so pages, errors and the CSP header are the
production ones. The settings tests start Python without it to check the defaults.
"""

import os

os.environ.setdefault("DEBUG", "true")

from webapp.settings import *  # noqa: E402, F403
