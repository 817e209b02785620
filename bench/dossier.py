"""Benchmark: printing dossiers of the demo county.

Seeds the demo county into a fresh SQLite database, finds the case whose dossier has the most
documents, prints it through the real service (load, build, WeasyPrint PDF/A, audit) several
times, then prints 100 closed cases' dossiers as one batch job the way the worker does (a pool of
one process per core). ``--sample FILE`` also keeps that case's dossier there (how
``docs/sample-dossier.pdf`` is made). Last line:
  dossier_seconds=<median> pages=<n> batch_seconds=<s>
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUNS = 7
BATCH = 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sample", type=Path, help="also write the richest case's dossier to this file")
    args = parser.parse_args()
    import pypdfium2 as pdfium
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from portal import create_app
    from portal.demo.seed import seed_demo
    from portal.extensions import db
    from portal.models import (
        Case,
        CaseAttachment,
        CaseStatus,
        Investigation,
        MediationSession,
        PortalUser,
        PrintJob,
        PrintJobStatus,
        WorkItem,
    )
    from portal.services._tx import transaction
    from portal.services.documents.batch import queue_cases, run_print_jobs
    from portal.services.documents.render import print_dossier
    from portal.services.setup import initialise_portal

    tmp = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.db'}",
                      "UPLOAD_FOLDER": f"{tmp / 'uploads'}/", "PORTAL_PRINT_FOLDER": str(tmp / "prints")})
    with app.app_context():
        upgrade()
        initialise_portal()
        t0 = time.perf_counter()
        print(seed_demo(n_cases=400), f"({time.perf_counter() - t0:.0f} s)")
        admin = db.session.scalar(select(PortalUser).where(PortalUser.username == "admin"))

        def count(model, *where):
            return select(func.count()).select_from(model).where(model.case_id == Case.id, *where).scalar_subquery()
        richness = (count(MediationSession) + count(Investigation) + count(CaseAttachment)
                    + count(WorkItem, WorkItem.form_key == "followup"))
        case_id = db.session.scalar(select(Case.id).where(Case.status == CaseStatus.CLOSED)
                                    .order_by(richness.desc(), Case.id).limit(1))
        times = []
        for _ in range(RUNS):
            t0 = time.perf_counter()
            pdf, _name, notes = print_dossier(admin, case_id)
            times.append(time.perf_counter() - t0)
        pages = len(pdfium.PdfDocument(pdf))
        if args.sample:
            args.sample.write_bytes(pdf)
        dossier = statistics.median(times)
        print(f"richest closed case {case_id}: {pages} pages, notes {notes}; "
              f"runs {', '.join(f'{t:.3f}' for t in times)} s")

        closed = list(db.session.scalars(select(Case.id).where(Case.status == CaseStatus.CLOSED)
                                         .order_by(Case.closed_at).limit(BATCH)))
        assert len(closed) == BATCH, f"only {len(closed)} closed demo cases"
        job = transaction(queue_cases)(admin, closed, "zip", {"month": "", "township": "", "closed_only": True})
        t0 = time.perf_counter()
        while run_print_jobs():
            pass
        batch = time.perf_counter() - t0
        job = db.session.get(PrintJob, job.id, populate_existing=True)
        assert job.status == PrintJobStatus.DONE and job.done == BATCH, (job.status, job.done, job.error)
        size = (tmp / "prints" / job.result_name).stat().st_size
        print(f"batch of {BATCH} dossiers: {batch:.1f} s, zip {size / 1e6:.1f} MB")
    print(f"dossier_seconds={dossier:.3f} pages={pages} batch_seconds={batch:.1f}")


if __name__ == "__main__":
    main()
