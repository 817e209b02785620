"""Each user's worklist: to do, supervision cards, all of the unit's cases, done; with filters,
an export, and the user's notifications."""
import csv
import io

from flask import Response, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _

from portal.clock import utcnow
from portal.idcard import mask_id_number, mask_phone
from portal.models import CaseStatus, OrgKind
from portal.roles import sees_personal_data
from portal.services import queries
from portal.services.audit import record_export
from portal.services.claims import LEADERS, unit_members
from portal.services.comments import mark_read, notifications_of


def _filters() -> queries.Filters:
    args = request.args

    def number(name):
        value = args.get(name, "")
        return int(value) if value.isdigit() else None
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
        filters = _filters()
        items = queries.unit_cases(g.user, filters) if tab == "unit" else queries.worklist(g.user, tab, filters)
        leader = bool(LEADERS & g.user.role_names)
        return self.render_template(
            "portal/worklist.html", items=items, tab=tab, now=utcnow(), filters=filters,
            types=[t for t in queries.dispute_types() if t.parent_id is None],
            townships=queries.org_units(OrgKind.TOWNSHIP), statuses=list(CaseStatus),
            members=unit_members(g.user) if leader else [], leader=leader, args=request.args)

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
        """The unit's cases as CSV (what the list shows), personal data masked for roles without the right."""
        cases = queries.unit_cases(g.user, _filters(), limit=10000)
        full = sees_personal_data(g.user.role_names)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([_("Case code"), _("Subject"), _("Dispute type"), _("Township"), _("Case status"),
                         _("Lead unit"), _("Registered"), _("Deadline"), _("Parties"), _("ID number"), _("Phone")])
        for c in cases:
            writer.writerow([c.code, c.title, c.dispute_type.name, c.township.name, c.status.label,
                             c.assigned_unit.name if c.assigned_unit else "", c.registered_at, c.due_at or "",
                             "、".join(p.name for p in c.parties),
                             "、".join((p.id_number or "") if full else mask_id_number(p.id_number) for p in c.parties),
                             "、".join((p.phone or "") if full else mask_phone(p.phone) for p in c.parties)])
        record_export(g.user, "cases.csv", len(cases), unmasked=full)
        return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=cases.csv"})

    @expose("/notifications", methods=["GET", "POST"])
    @has_access
    def notifications(self):
        if request.method == "POST":
            mark_read(g.user)
            return redirect(url_for("WorklistView.notifications"))
        return self.render_template("portal/notifications.html", notes=notifications_of(g.user))
