"""The county dispute-resolution portal.

``create_app(config)`` builds the application; nothing runs at import time.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, render_template, request, session


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the portal: settings, database, Flask-AppBuilder, views, CLI commands."""
    from flask_appbuilder import AppBuilder
    from flask_babel import lazy_gettext as _l

    from portal import config as portal_config
    from portal.cli import portal_cli
    from portal.config import ROOT
    from portal.extensions import csrf, db, migrate

    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    app.config.update(portal_config.load())
    app.config.update(config or {})
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # a request no bigger than an attachment and its form
        app.config["MAX_CONTENT_LENGTH"] = app.config["PORTAL_ATTACHMENT_MAX_BYTES"] + 1024 * 1024
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        # the file's folder (PORTAL_INSTANCE_DIR may be anywhere); a relative path lies in the app's instance path
        database = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///").split("?")[0])
        if database.is_absolute():
            database.parent.mkdir(parents=True, exist_ok=True)
        # The connection used last is taken again: SQLite keeps a connection's pages between transactions
        # only while no other connection has written, so handing out pooled connections in turn had each
        # request read again every page it touched (about 100 reads of the file per request, 1 now).
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}, "pool_use_lifo": True}
    elif app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # a database host that does not answer makes a page fail in seconds, not hang on TCP's minutes
        options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        connect_args = options.setdefault("connect_args", {})
        connect_args.setdefault("connect_timeout", 10)
        # No JIT compiling of queries: the lists' and figures' plans are estimated dear enough to pass its
        # threshold, and compiling them costs more than running them (80 of 150 ms for a township's cases)
        connect_args.setdefault("options", "-c jit=off")
    if app.config.get("PORTAL_TRUSTED_PROXIES"):  # the client's address is what the proxies say it is
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PORTAL_TRUSTED_PROXIES"])
    csrf.init_app(app)
    with app.app_context():
        db.init_app(app)
        from portal import models  # noqa: F401  (register the models before FAB starts)
        appbuilder = AppBuilder()
        appbuilder.init_app(app, db.session)
        migrate.init_app(app, db, directory=str(ROOT / "migrations"))
        if db.engine.dialect.name == "sqlite":
            _tune_sqlite(db.engine)
        elif db.engine.dialect.name == "postgresql":
            from portal.services._tx import note_writes
            note_writes(db.engine)
        _register_views(appbuilder, _l)
        from portal.views.api import register_api
        register_api(app)
    _register_error_handlers(app)
    _close_sessions_quietly(app)
    _limit_logins(app)
    _register_filters(app)
    from portal import i18n
    i18n.install(app)  # after Flask-Babel's own (AppBuilder above), which it replaces
    _check_print_setup(app)
    from portal.services.audit import audit_settings_changes
    audit_settings_changes()
    app.cli.add_command(portal_cli)
    return app


def _register_views(appbuilder, _l) -> None:
    from portal.views.analysis import MonthlyReportView, ScorecardView
    from portal.views.api_clients import ApiClientView
    from portal.views.branches import BranchView
    from portal.views.cases import CaseView
    from portal.views.dashboard import DashboardView
    from portal.views.designer import DesignerView
    from portal.views.documents import DocumentView
    from portal.views.forms import FormDefinitionView
    from portal.views.grid import GridReportView
    from portal.views.heatmap import HeatmapView
    from portal.views.migration import ProcessMigrationView
    from portal.views.online import OnlineCaseView
    from portal.views.prints import PrintView
    from portal.views.public import PublicView
    from portal.views.settings import CalendarDayView, DeadlineRuleView, PortalSettingsView, SupervisionRuleView
    from portal.views.worklist import WorklistView

    appbuilder.add_view(WorklistView, "Worklist", label=_l("My worklist"), icon="fa-inbox")
    appbuilder.add_view_no_menu(CaseView)
    appbuilder.add_link("RegisterCase", label=_l("Register a case"), href="/cases/register",
                        icon="fa-pen-to-square", category="Cases", category_label=_l("Cases"),
                        category_icon="fa-folder-open")
    appbuilder.add_link("FindCase", label=_l("Find a case by code"), href="/cases/find",
                        icon="fa-magnifying-glass", category="Cases")
    appbuilder.add_link("RepeatParties", label=_l("Repeat parties"), href="/cases/repeats",
                        icon="fa-people-arrows", category="Cases")
    appbuilder.add_view_no_menu(DocumentView)
    appbuilder.add_view_no_menu(OnlineCaseView)
    appbuilder.add_view_no_menu(PublicView)  # no login: citizens file and follow disputes
    appbuilder.add_view_no_menu(PrintView)
    appbuilder.add_link("BatchPrint", label=_l("Print dossiers in bulk"), href="/prints/", icon="fa-print",
                        category="Cases")
    appbuilder.add_view_no_menu(BranchView)
    appbuilder.add_link("AidLedger", label=_l("Assistance ledger"), href="/branches/", icon="fa-hand-holding-heart",
                        category="Assistance", category_label=_l("Assistance and risk control"),
                        category_icon="fa-hands-helping")
    appbuilder.add_link("RiskLedger", label=_l("Risk-control ledger"), href="/branches/risk", icon="fa-shield-halved",
                        category="Assistance")
    appbuilder.add_view(DashboardView, "Dashboard", label=_l("Dashboard"), icon="fa-chart-line",
                        category="Analysis", category_label=_l("Analysis"), category_icon="fa-chart-pie")
    appbuilder.add_link("Notifications", label=_l("Notifications"), href="/worklist/notifications", icon="fa-bell")
    appbuilder.add_view_no_menu(GridReportView)
    appbuilder.add_link("ReportFromScene", label=_l("Report from the scene"), href="/grid/report",
                        icon="fa-location-dot")
    appbuilder.add_link("MyGridReports", label=_l("My reports"), href="/grid/reports", icon="fa-list-check")
    appbuilder.add_view(HeatmapView, "ProcessHeatmap", label=_l("Process heat map"), icon="fa-fire",
                        category="Analysis")
    appbuilder.add_view(ScorecardView, "Scorecards", label=_l("Unit scorecards"), icon="fa-ranking-star",
                        category="Analysis")
    appbuilder.add_view(MonthlyReportView, "MonthlyReport", label=_l("Monthly dispute report"), icon="fa-table",
                        category="Analysis")
    appbuilder.add_view(DeadlineRuleView, "DeadlineRules", label=_l("Deadline rules"), icon="fa-clock",
                        category="Settings", category_label=_l("Settings"), category_icon="fa-gears")
    appbuilder.add_view(CalendarDayView, "CalendarDays", label=_l("Holidays and make-up days"),
                        icon="fa-calendar-days", category="Settings")
    appbuilder.add_view(SupervisionRuleView, "SupervisionRules", label=_l("Supervision card thresholds"),
                        icon="fa-flag", category="Settings")
    appbuilder.add_view_no_menu(DesignerView)
    appbuilder.add_link("ProcessDesigner", label=_l("Process designer"), href="/processes/",
                        icon="fa-diagram-project", category="Settings")
    appbuilder.add_view(PortalSettingsView, "PortalSettings", label=_l("Portal settings"), icon="fa-sliders",
                        category="Settings")
    appbuilder.add_view(FormDefinitionView, "FormDefinitions", label=_l("Forms"), icon="fa-table-list",
                        category="Settings")
    appbuilder.add_view(ProcessMigrationView, "ProcessMigration", label=_l("Move running cases to a new version"),
                        icon="fa-code-branch", category="Settings")
    appbuilder.add_view(ApiClientView, "ApiClients", label=_l("Systems using the API"), icon="fa-plug",
                        category="Settings")


def _check_print_setup(app: Flask) -> None:
    """Say at start what the machine lacks to print Chinese documents; the print pages say it too."""
    from portal.pdf import print_setup_problems
    app.config["PORTAL_PRINT_PROBLEMS"] = print_setup_problems()
    for problem in app.config["PORTAL_PRINT_PROBLEMS"]:
        app.logger.warning(problem)


def _register_error_handlers(app: Flask) -> None:
    from sqlalchemy.exc import OperationalError

    from portal.services.errors import (
        DATABASE_RETRY_AFTER,
        DATABASE_UNAVAILABLE,
        DomainError,
        database_unavailable,
    )

    @app.errorhandler(413)
    def too_large(_exc):
        from portal.services.attachments import TOO_LARGE, human_size
        message = str(TOO_LARGE) % {"limit": human_size(app.config["PORTAL_ATTACHMENT_MAX_BYTES"])}
        return render_template("portal/error.html", message=message, base_template=app.appbuilder.base_template,
                               appbuilder=app.appbuilder), 413

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        return render_template("portal/error.html", message=str(exc),
                               base_template=app.appbuilder.base_template,
                               appbuilder=app.appbuilder), exc.status_code

    @app.errorhandler(OperationalError)
    def database_down(exc: OperationalError):
        """The database is down, restarting or unreachable: a page that needs nothing from it (no menu,
        no user), 503 and when to come back; the portal reconnects by itself (``pool_pre_ping``)."""
        if not database_unavailable(exc):
            raise exc   # a fault of the portal (SQLite's missing table): a 500, logged
        app.logger.warning("database unavailable: %s %s: %s", request.method, request.path, exc.orig)
        # rendered without the context processors: Flask-Login's would load the user from the database
        page = app.jinja_env.get_template("portal/unavailable.html").render(
            config=app.config, request=request, session=session, message=str(DATABASE_UNAVAILABLE),
            posted=request.method == "POST")
        return page, 503, {"Retry-After": str(DATABASE_RETRY_AFTER)}


def _close_sessions_quietly(app: Flask) -> None:
    """A request's answer is ready when the database goes away: closing its session (a ROLLBACK of what
    it only read, or of nothing after its commit) then fails on the dropped connection. The answer
    stands -- the user's step was done or the page was read -- so the failure is logged, the connection
    discarded, and the answer sent instead of a 500. Runs before Flask-SQLAlchemy's own teardown (Flask
    runs them last registered first), which then finds the session closed."""
    from sqlalchemy.exc import OperationalError

    from portal.extensions import db
    from portal.services._tx import end_reading
    from portal.services.errors import database_unavailable

    @app.teardown_appcontext
    def _close_session(_exc):
        try:
            if _exc is None:
                end_reading(db.session())
            db.session.remove()
        except OperationalError as exc:
            if not database_unavailable(exc):
                raise
            app.logger.warning("database gone while a finished request closed its session: %s", exc.orig)
            db.session.registry.clear()


def _limit_logins(app: Flask) -> None:
    """Count the login attempts of each address in the database, as the public pages' requests are, so
    that every app server and process of a deployment counts together (``PORTAL_LOGIN_RATE_LIMIT``)."""
    limit = app.config.get("PORTAL_LOGIN_RATE_LIMIT")
    if not limit:
        return
    from flask import request
    from flask_babel import gettext as _

    from portal.services.ratelimit import take

    @app.before_request
    def _count_login_attempt():
        if request.method != "POST" or request.endpoint != "AuthDBView.login":
            return None
        retry = take("login", request.remote_addr or "-", limit)
        if retry is None:
            return None
        message = _("Too many login attempts from your address. Please try again in %(n)s seconds.", n=retry)
        return render_template("portal/error.html", message=message, base_template=app.appbuilder.base_template,
                               appbuilder=app.appbuilder), 429, {"Retry-After": str(retry)}


def _register_filters(app: Flask) -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(app.config["PORTAL_TIMEZONE"])

    from datetime import timedelta
    app.jinja_env.globals["timedelta"] = timedelta
    from portal.clock import utcnow
    app.jinja_env.globals["now_utc"] = utcnow
    from portal.navbar import navbar
    app.jinja_env.globals["portal_navbar"] = navbar

    from portal.template_helpers import due_label, form_field, static_url, url_maker
    app.jinja_env.globals.update(due_label=due_label, url_maker=url_maker, form_field=form_field,
                                 static_url=static_url)

    @app.template_filter("fromjson")
    def fromjson(value):
        import json
        return json.loads(value or "{}")

    @app.template_filter("localtime")
    def localtime(value):
        """Stored naive UTC -> the county's local time, to the minute."""
        if not value:
            return ""
        from datetime import timezone
        return value.replace(tzinfo=timezone.utc).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _tune_sqlite(engine) -> None:
    """WAL: readers never wait for the writer, and a commit costs one sync, not three."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        dbapi_connection.create_function("portal_local_day", 2, _local_day, deterministic=True)


def _local_day(moment: str | None, zone: str) -> str | None:
    """SQLite's ``local_day`` (``portal.services.daily``): the calendar day in ``zone`` of a stored UTC moment."""
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo
    if moment is None:
        return None
    utc = datetime.fromisoformat(moment).replace(tzinfo=timezone.utc)
    return utc.astimezone(ZoneInfo(zone)).date().isoformat()

