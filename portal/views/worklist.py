"""Each user's worklist: to do, supervision cards, all of the unit's cases, done; with filters,
an export, and the user's notifications."""
import functools

from flask import g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from portal.clock import utcnow
from portal.models import CaseStatus, OrgKind
from portal.services import queries
from portal.services.claims import LEADERS, unit_members
from portal.services.comments import mark_read, notifications_of
from portal.services.exports import export_cases, export_worklist
from portal.views.exports import file_response, wanted_format

PER_PAGE = 50


def _page_number() -> int:
    value = request.args.get("page", "")
    return max(int(value), 1) if value.isdigit() and len(value) < 7 else 1


def _filters() -> queries.Filters:
    args = request.args

    def number(name):
        value = args.get(name, "")
        return int(value) if value.isdigit() and len(value) < 10 else None   # no id is longer
    status = args.get("status", "")
    return queries.Filters(code=args.get("code", ""), party=args.get("party", ""),
                           dispute_type_id=number("dispute_type_id"), township_id=number("township_id"),
                           status=status if status in {s.value for s in CaseStatus} else "",
                           overdue=args.get("overdue") == "1")


class WorklistView(BaseView):
    route_base = "/worklist"
    default_view = "todo"
    class_permission_name = "Worklist"
    method_permission_name = {"todo": "read", "done": "read", "supervised": "read", "unit": "read",
                              "export": "read", "notifications": "read"}

    def _page(self, tab: str):
        filters, page = _filters(), _page_number()
        fetch = queries.unit_cases if tab == "unit" else functools.partial(queries.worklist, tab=tab)
        items = fetch(g.user, filters=filters, limit=PER_PAGE + 1, offset=(page - 1) * PER_PAGE)
        leader = bool(LEADERS & g.user.role_names)
        return self.render_template(
            "portal/worklist.html", items=items[:PER_PAGE], more=len(items) > PER_PAGE, page=page, tab=tab,
            now=utcnow(), filters=filters,
            types=[t for t in queries.dispute_types() if t.parent_id is None],
            townships=queries.org_units(OrgKind.TOWNSHIP), statuses=list(CaseStatus),
            members=unit_members(g.user) if leader else [], leader=leader,
            args={k: v for k, v in request.args.items() if k not in ("tab", "format", "page")})

    @expose("/")
    @has_access
    def todo(self):
        return self._page("todo")

    @expose("/supervised")
    @has_access
    def supervised(self):
        return self._page("supervised")

    @expose("/unit")
    @has_access
    def unit(self):
        return self._page("unit")

    @expose("/done")
    @has_access
    def done(self):
        return self._page("done")

    @expose("/export")
    @has_access
    def export(self):
        """A tab of the worklist as CSV or Excel (``?tab=unit|todo|supervised|done&format=csv|xlsx``), with the
        page's filters; in the unit's cases, personal data masked for roles without the right."""
        tab = request.args.get("tab", "unit")
        if tab == "unit":
            return file_response(export_cases(g.user, _filters(), wanted_format()))
        return file_response(export_worklist(g.user, tab, _filters(), wanted_format()))

    @expose("/notifications", methods=["GET", "POST"])
    @has_access
    def notifications(self):
        if request.method == "POST":
            mark_read(g.user)
            return redirect(url_for("WorklistView.notifications"))
        return self.render_template("portal/notifications.html", notes=notifications_of(g.user))
