"""gunicorn's settings file, read by every way of serving the portal (``make run``, ``deploy/serve.sh`` and
the benchmarks start gunicorn in the project's folder, where it looks for it)."""
from __future__ import annotations

import gc
import runpy

from portal.config import ROOT


def test_a_loaded_worker_stops_collecting_what_start_up_built():
    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    before = gc.get_freeze_count()
    try:
        hooks["post_worker_init"](None)
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()
