"""The administrator's page for moving running cases to a newer process version (and back)."""
from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _

from portal.services.errors import DomainError
from portal.services.migration import migrate, overview, revert


def _ids(name: str) -> list[int]:
    return [int(v) for v in request.form.getlist(name) if v.isdigit()]


def _version_id(source) -> int | None:
    value = source.get("version_id", "")
    return int(value) if value.isdigit() else None


class ProcessMigrationView(BaseView):
    """Choose a published version, see which running cases could move to it (and why not), move the
    ticked ones, undo a move."""

    route_base = "/processes/migrate"
    default_view = "index"
    class_permission_name = "ProcessMigration"
    method_permission_name = {"index": "read", "run": "migrate", "revert": "migrate"}

    @expose("/")
    @has_access
    def index(self):
        return self.render_template("portal/process_migration.html", page=overview(_version_id(request.args)),
                                    results=None)

    @expose("/run", methods=["POST"])
    @has_access
    def run(self):
        version_id = _version_id(request.form)
        results = migrate(g.user, version_id or 0, _ids("case_id"), _ids("branch_id"))
        moved = sum(r.migrated for r in results)
        flash(_("%(moved)s of %(asked)s moved to the new version.", moved=moved, asked=len(results)),
              "success" if moved == len(results) else "warning")
        return self.render_template("portal/process_migration.html", page=overview(version_id), results=results)

    @expose("/revert/<int:migration_id>", methods=["POST"])
    @has_access
    def revert(self, migration_id: int):
        try:
            record = revert(g.user, migration_id)
        except DomainError as exc:
            flash(str(exc), "danger")
        else:
            flash(_("Case %(code)s is back on version %(v)s.", code=record.case.code, v=record.from_version.version),
                  "success")
        return redirect(url_for("ProcessMigrationView.index", version_id=_version_id(request.form)))
