"""The generator's process pool must not fork a process that runs other threads (a live
test server, a browser driver: `make test` runs the browser tests first). A forked child
inherits whatever locks those threads hold, and the pool can hang for ever."""

import threading

from ml.synth import generate
from ml.synth.generate import _pool_context


def test_the_pool_spawns_while_another_thread_runs_and_finishes(tmp_path):
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert _pool_context().get_start_method() == "spawn"
        manifest = generate(
            tmp_path, 1, classes=["Blip", "Whistle"], style="crop", seed=3, workers=2
        )
    finally:
        stop.set()
        other.join()
    rows = manifest.read_text().splitlines()
    assert len(rows) == 1 + 2 * 4  # header + two glitches at four durations


def test_the_pool_forks_a_single_threaded_process():
    if threading.active_count() > 1:  # a thread left by an earlier test in this process
        assert _pool_context().get_start_method() == "spawn"
    else:
        assert _pool_context().get_start_method() == "fork"
