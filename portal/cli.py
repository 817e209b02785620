"""`flask portal …` commands: set up roles, reference data, demo county, worker."""
from __future__ import annotations

import gc
from pathlib import Path

import click
from flask.cli import AppGroup

portal_cli = AppGroup("portal", help="County dispute-resolution portal commands.")


@portal_cli.command("sync-roles")
def sync_roles_command() -> None:
    """Create or update roles, permissions and lane mappings (idempotent)."""
    from portal.services.accounts import sync_roles
    counts = sync_roles()
    click.echo(f"roles synced: {counts}")


@portal_cli.command("init")
def init_command() -> None:
    """Roles, dispute taxonomy, the county center and the shipped processes (idempotent)."""
    from portal.services.setup import initialise_portal
    published = initialise_portal()
    click.echo(f"initialised; processes published now: {[f'{p.process_id} v{p.version}' for p in published]}")


@portal_cli.command("demo")
@click.option("--cases", default=400, show_default=True, help="How many demo cases to drive through the chain.")
@click.option("--seed", default=20231, show_default=True, help="Random seed (same seed, same county).")
def demo_command(cases: int, seed: int) -> None:
    """Seed the demo county, one user per role, and two years of cases (only into an empty county)."""
    from portal.demo.seed import seed_demo
    summary = seed_demo(n_cases=cases, seed=seed)
    click.echo(summary)


@portal_cli.command("create-user")
@click.option("--username", required=True)
@click.option("--role", "roles", multiple=True, required=True)
@click.option("--org", "org_code", default=None, help="Org unit code, e.g. CENTER or D03.")
@click.password_option()
def create_user_command(username: str, roles: tuple[str, ...], org_code: str | None, password: str) -> None:
    """Create a staff account."""
    from portal.services.accounts import create_user
    user = create_user(username, username, list(roles), org_code, password)
    click.echo(f"created {user.username}")


@portal_cli.command("check")
def check_command() -> None:
    """Check that workflows, work items, timers and the audit log agree; exit 1 when they do not."""
    from portal.services.invariants import check_invariants
    report = check_invariants()
    for problem in report.problems:
        click.echo(problem)
    click.echo(f"checked {report.cases} running case(s) and {report.branches} running branch(es): "
               + ("all consistent" if report.ok else f"{len(report.problems)} problem(s)"))
    if not report.ok:
        raise SystemExit(1)


@portal_cli.command("backup")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def backup_command(folder: Path) -> None:
    """Back up the database and the uploaded files into FOLDER (new or empty); safe while the portal runs."""
    from portal.services.backup import backup_portal
    from portal.services.errors import DomainError
    try:
        summary = backup_portal(folder)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backed up the {summary.dialect} database ({summary.database_bytes} bytes) and {summary.files} "
               f"uploaded file(s) ({summary.file_bytes} bytes) to {summary.folder}")


@portal_cli.command("restore")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def restore_command(folder: Path) -> None:
    """Restore a backup made by `flask portal backup` into an EMPTY database, then check it (exit 1 when
    the check finds a problem)."""
    from portal.services.backup import restore_portal
    from portal.services.errors import DomainError
    try:
        summary = restore_portal(folder)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    for problem in summary.problems:
        click.echo(problem)
    migrated = f"; schema migrated from revision {summary.migrated_from}" if summary.migrated_from else ""
    click.echo(f"restored {summary.cases} case(s), {summary.users} user(s), {summary.attachments} attachment(s), "
               f"{summary.files} file(s){migrated}: "
               + ("all consistent" if not summary.problems else f"{len(summary.problems)} problem(s)"))
    if summary.problems:
        raise SystemExit(1)


@portal_cli.command("figures")
@click.option("--again", is_flag=True, help="Count every case and step again from nothing (after the time "
                                             "zone or the kind of an org unit changed).")
def figures_command(again: bool) -> None:
    """Bring the figures' day sums up to date now (the worker does it every round; the first time
    on a large county takes a while)."""
    from portal.services.rollups import rebuild_rollups, refresh_rollups
    cases, steps = rebuild_rollups() if again else refresh_rollups(steps=None)
    click.echo(f"figures: {cases} case(s) counted again, {steps} step(s) taken")


@portal_cli.command("worker")
@click.option("--once", is_flag=True, help="Fire everything due now and exit.")
@click.option("--interval", default=10.0, show_default=True, help="Seconds between rounds.")
def worker_command(once: bool, interval: float) -> None:
    """Fire due BPMN timers, raise due supervision cards, deliver notifications, send unopened
    electronic deliveries to paper service, bring the figures' day sums and the query planner's
    statistics up to date and render batch prints (safe on several machines at once)."""
    import logging
    import time

    from sqlalchemy.exc import DBAPIError

    from portal.extensions import db
    from portal.services.comments import deliver_notifications
    from portal.services.delivery import sweep_unopened
    from portal.services.documents.batch import run_print_jobs
    from portal.services.ratelimit import purge_windows
    from portal.services.rollups import STEPS_PER_ROUND, refresh_rollups
    from portal.services.statistics import refresh_statistics
    from portal.services.supervision import raise_due_cards
    from portal.services.timers import fire_due_timers
    def one_round() -> int:
        fired = fire_due_timers(limit=None if once else 500)
        if fired:
            click.echo(f"fired timers of {fired} case(s) and branch(es)")
        cards = raise_due_cards(limit=None if once else 500)
        if cards:
            click.echo(f"raised {cards} supervision card(s)")
        sent = deliver_notifications(limit=None if once else 500)
        if sent:
            click.echo(f"delivered {sent} notification(s)")
        paper = sweep_unopened(limit=None if once else 500)
        if paper:
            click.echo(f"{paper} document(s) not opened in time: to be served on paper")
        purge_windows()
        refresh_statistics()
        refresh_rollups(steps=None if once else STEPS_PER_ROUND)
        printed = run_print_jobs()  # one slice of a batch print: timers never wait long behind a big job
        while once and printed:
            printed = run_print_jobs()
        return printed

    if once:
        one_round()
        return
    gc.freeze()  # what start-up built lives as long as the worker: the collector stops walking it each round
    while True:
        try:
            printed = one_round()
        except DBAPIError:
            # The database out of reach or busy (restarted, SQLite's lock): each unit of work rolled back;
            # the worker waits and goes on, so the app servers beside it (deploy/serve.sh) keep serving.
            logging.getLogger("portal.worker").exception("worker round failed; trying again in %ss", interval)
            db.session.remove()
            printed = 0
        if not printed:
            time.sleep(interval)
