"""gunicorn.conf.py: the web settings every deployment reads (compose, Dockerfile, bench)."""

import gc
import runpy
from pathlib import Path

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def test_threaded_workers_that_freeze_the_loaded_app_out_of_the_collector():
    conf = runpy.run_path(str(CONF))
    assert conf["worker_class"] == "gthread" and conf["workers"] >= 2 and conf["threads"] >= 1
    before = gc.get_freeze_count()
    try:
        conf["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()
