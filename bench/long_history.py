"""Benchmark: a case sent back by verification 300 times, through the real services.

Prints the median time of one complete_task call in the first and in the
last ten rounds, and the stored workflow state size. Last line:
  round1_step_ms=<…> round300_step_ms=<…> state_bytes=<…>
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from flask_migrate import upgrade

    from portal import create_app
    from portal.extensions import db
    from portal.models import Case
    from portal.services.cases import complete_task, register_case
    from tests.conftest import STEP_FORMS, build_test_county, do_step, intake_data, open_item, user

    url = f"sqlite:///{tempfile.mkdtemp(prefix='portal-bench-')}/long.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        build_test_county("bench-pass-1")
        case_id = register_case(user("window"), intake_data()).id
        for step in ("triage", "dispatch", "accept", "handle", "feedback", "followup"):
            do_step(case_id, step)
        per_round = []
        for _ in range(300):
            times = []
            for username, form in (("verify", {"passed": "no", "opinion": "退回"}),
                                   STEP_FORMS["handle"], STEP_FORMS["feedback"], STEP_FORMS["followup"]):
                form = form() if callable(form) else form
                item_id = open_item(case_id).id
                t0 = time.perf_counter()
                complete_task(user(username), item_id, form)
                times.append((time.perf_counter() - t0) * 1000)
            per_round.append(statistics.median(times))
        size = len(db.session.get(Case, case_id).wf_state)
    first, last = statistics.median(per_round[:10]), statistics.median(per_round[-10:])
    print(f"complete_task median: rounds 1-10 {first:.2f} ms, rounds 291-300 {last:.2f} ms; state {size} bytes")
    print(f"round1_step_ms={first:.2f} round300_step_ms={last:.2f} state_bytes={size}")


if __name__ == "__main__":
    main()
