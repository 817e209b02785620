"""Batch printing: the dossiers of many cases (e.g. a township's closed cases of a month) in one file.

A job is queued by a page and rendered by the worker (``flask portal worker``) a slice at a time,
so timers and notifications keep flowing and a job survives a restart: each finished dossier is a
file in the job's folder and ``done`` counts them. The HTML of each dossier is built here (it needs
the database); the CPU-heavy layout runs in a pool of processes, one per core. When every dossier
is there the job writes its result -- a zip of the PDF/A files or one PDF -- under a temporary name
and renames it, so a download never sees a half-written file.
"""
from __future__ import annotations

import json
import os
import shutil
import zipfile
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from multiprocessing import get_context
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from portal.clock import utcnow
from portal.extensions import db
from portal.models import Case, CaseStatus, OrgUnit, PortalUser, PrintJob, PrintJobStatus
from portal.pdf import render_pdf_args
from portal.roles import sees_personal_data
from portal.services import queries
from portal.services._tx import transaction
from portal.services.audit import audit
from portal.services.deadlines import local_to_utc, local_today
from portal.services.documents.casefile import load_case_file
from portal.services.documents.dossier import build_dossier
from portal.services.errors import CaseForbiddenError, CaseNotFoundError, DomainError, ValidationFailed

MAX_CASES = 2000          # one job; a county's busiest township prints a year in a few jobs
SLICE = 24                # dossiers per worker round
STALE_AFTER = timedelta(minutes=15)  # a running job not advanced for this long was orphaned by a crash
OUTPUTS = ("zip", "pdf")


class PrintJobNotFoundError(DomainError):
    status_code = 404
    message = _l("There is no such print job.")


def _month_range(month: str) -> tuple[datetime, datetime]:
    try:
        first = datetime.strptime(month, "%Y-%m")
    except (TypeError, ValueError):
        raise ValidationFailed(_l("Give the month as YYYY-MM."), field="month") from None
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return local_to_utc(first), local_to_utc(following)


@transaction
def queue_print_job(user, month: str, township_id: int | None = None, closed_only: bool = True,
                    output: str = "zip") -> PrintJob:
    """Queue the dossiers of the cases the user may see: closed (or registered) in ``month``,
    of one township or all; refused when nothing matches or too much does."""
    if output not in OUTPUTS:
        raise ValidationFailed(_l("Choose a zip of files or one PDF."), field="output")
    start, end = _month_range(month)
    when = Case.closed_at if closed_only else Case.registered_at
    query = select(Case.id).where(queries.visible_cases_filter(user), when >= start, when < end)
    if closed_only:
        query = query.where(Case.status == CaseStatus.CLOSED)
    township = None
    if township_id:
        township = db.session.get(OrgUnit, township_id)
        if township is None:
            raise ValidationFailed(_l("Choose a township from the list."), field="township_id")
        query = query.where(Case.township_id == township.id)
    case_ids = list(db.session.scalars(query.order_by(when, Case.id).limit(MAX_CASES + 1)))
    if not case_ids:
        raise ValidationFailed(_l("No case of yours matches: nothing to print."), field="month")
    if len(case_ids) > MAX_CASES:
        raise ValidationFailed(_l("More than %(n)s cases match: print one township or a shorter period at a time."),
                               field="month", n=MAX_CASES)
    criteria = {"month": month, "township": township.name if township else "", "closed_only": closed_only}
    return queue_cases(user, case_ids, output, criteria)


def queue_cases(user, case_ids: list[int], output: str, criteria: dict) -> PrintJob:
    """Queue a job for these cases (already checked to be the user's), in the caller's transaction."""
    job = PrintJob(requested_by_id=user.id, requested_at=utcnow(), criteria=json.dumps(criteria, ensure_ascii=False),
                   case_ids=json.dumps(case_ids), output=output, masked=0 if sees_personal_data(user.role_names) else 1,
                   status=PrintJobStatus.QUEUED, total=len(case_ids), done=0, notes="[]")
    db.session.add(job)
    db.session.flush()
    audit("print.queue", user=user, job=job.id, cases=len(case_ids), **criteria)
    return job


def job_for(user, job_id: int) -> PrintJob:
    """A print job of the user's own."""
    job = db.session.get(PrintJob, job_id)
    if job is None or job.requested_by_id != user.id:
        raise PrintJobNotFoundError()
    return job


def jobs_of(user, limit: int = 20) -> list[PrintJob]:
    return list(db.session.scalars(select(PrintJob).where(PrintJob.requested_by_id == user.id)
                                   .order_by(PrintJob.id.desc()).limit(limit)))


def _folder() -> Path:
    return Path(current_app.config["PORTAL_PRINT_FOLDER"])


def _job_dir(job: PrintJob) -> Path:
    return _folder() / f"job-{job.id}"


def result_path(job: PrintJob) -> Path | None:
    return _folder() / job.result_name if job.result_name else None


@transaction
def record_download(user, job: PrintJob) -> Path:
    path = result_path(job)
    if job.status != PrintJobStatus.DONE or path is None or not path.is_file():
        raise PrintJobNotFoundError()
    audit("print.download", user=user, job=job.id, cases=job.total)
    return path


# -- the worker's side ------------------------------------------------------------------------------

_POOL: ProcessPoolExecutor | None = None


def _pool() -> ProcessPoolExecutor:
    global _POOL
    if _POOL is None:
        workers = current_app.config.get("PORTAL_PRINT_PROCESSES") or os.cpu_count() or 1
        _POOL = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))
    return _POOL


@transaction
def _claim_job(now: datetime) -> int | None:
    """Take the oldest queued job, or one a crashed worker left running, for one slice (safe on
    several machines: the conditional UPDATE lets exactly one worker have it)."""
    job = db.session.scalar(
        select(PrintJob).where((PrintJob.status == PrintJobStatus.QUEUED)
                               | ((PrintJob.status == PrintJobStatus.RUNNING)
                                  & (PrintJob.started_at < now - STALE_AFTER)))
        .order_by(PrintJob.id).limit(1))
    if job is None:
        return None
    taken = db.session.execute(
        update(PrintJob).where(PrintJob.id == job.id, PrintJob.status == job.status,
                               PrintJob.done == job.done)
        .values(status=PrintJobStatus.RUNNING, started_at=now).execution_options(synchronize_session=False))
    return job.id if taken.rowcount == 1 else None


def run_print_jobs(slice_size: int = SLICE) -> int:
    """One round of the worker: the next slice of the oldest job; the number of cases it took."""
    job_id = _claim_job(utcnow())
    if job_id is None:
        return 0
    try:
        return _run_slice(db.session.get(PrintJob, job_id, populate_existing=True), slice_size)
    except Exception as exc:  # noqa: BLE001 -- the job says what went wrong; the worker goes on with its rounds
        db.session.rollback()
        current_app.logger.exception("print job %s failed", job_id)
        _fail(job_id, f"{type(exc).__name__}: {exc}"[:500])
        return 0


@transaction
def _fail(job_id: int, error: str) -> None:
    job = db.session.get(PrintJob, job_id)
    job.status, job.error, job.finished_at = PrintJobStatus.FAILED, error, utcnow()


def _prepare(user, case_id: int, masked: bool):
    """(case, dossier) of one case, or None when it is gone or no longer visible to the requester."""
    try:
        case = queries.case_for(user, case_id)
    except (CaseNotFoundError, CaseForbiddenError):
        return None
    return case, build_dossier(load_case_file(case, masked=masked, today=local_today()))


def _run_slice(job: PrintJob, slice_size: int) -> int:
    user = db.session.get(PortalUser, job.requested_by_id)
    todo = json.loads(job.case_ids)[job.done:job.done + slice_size]
    folder = _job_dir(job)
    folder.mkdir(parents=True, exist_ok=True)
    variant = current_app.config["PORTAL_PDF_VARIANT"]
    rendering, notes = [], []
    for number, case_id in enumerate(todo, start=job.done + 1):  # each one renders while the next is built
        result = _prepare(user, case_id, bool(job.masked))
        if result is None:
            notes.append(f"第{number}件：案件已不在您的查看范围内，未打印。")
            continue
        case, dossier = result
        notes.extend(f"{case.code}：{n}" for n in dossier.notes)
        rendering.append((number, case.id, case.code,
                          _pool().submit(render_pdf_args, (dossier.html, variant, dossier.resources,
                                                            dossier.stylesheets))))
    db.session.rollback()  # no transaction stays open while the last ones render
    for number, _id, code, future in rendering:
        part = folder / f"{number:05d}-{code}.pdf"
        tmp = part.with_suffix(".tmp")
        tmp.write_bytes(future.result())
        tmp.replace(part)
    _advance(job.id, user, [case_id for _n, case_id, *_x in rendering], len(todo), notes)
    return len(todo)


@transaction
def _advance(job_id: int, user, printed: list[int], taken: int, notes: list[str]) -> None:
    """Count the slice, audit each dossier printed, and hand the job back (or finish it)."""
    job = db.session.get(PrintJob, job_id, with_for_update=True, populate_existing=True)
    job.done += taken
    job.notes = json.dumps(json.loads(job.notes or "[]") + notes, ensure_ascii=False)
    for case_id in printed:
        audit("dossier.print", user=user, case=db.session.get(Case, case_id), job=job.id, masked=bool(job.masked))
    if job.done >= job.total:
        _finish(job)
    else:
        job.status = PrintJobStatus.QUEUED


def _merge(parts: list[Path], target: Path) -> None:
    import pypdfium2 as pdfium
    merged = pdfium.PdfDocument.new()
    for part in parts:
        source = pdfium.PdfDocument(part)
        merged.import_pages(source)
        source.close()
    merged.save(target)
    merged.close()


def _finish(job: PrintJob) -> None:
    """Write the job's one file under a temporary name, then rename it into place."""
    folder = _job_dir(job)
    parts = sorted(folder.glob("*.pdf"))
    name = f"卷宗-{job.id}.{job.output}"
    target = _folder() / name
    tmp = target.with_name(target.name + ".tmp")
    if job.output == "zip":
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive:
            for part in parts:
                archive.write(part, arcname=part.stem.split("-", 1)[1] + "-调解卷宗.pdf")
            notes = json.loads(job.notes or "[]")
            if notes:
                archive.writestr("打印说明.txt", "\n".join(notes) + "\n")
    else:
        _merge(parts, tmp)
    tmp.replace(target)
    shutil.rmtree(folder, ignore_errors=True)
    job.status, job.result_name, job.finished_at = PrintJobStatus.DONE, name, utcnow()
