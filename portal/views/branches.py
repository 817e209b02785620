"""Branch pages: start an assistance application or a risk-control file from a case, see one
branch with its steps, and the ledgers (all assistance with its totals; the persons under risk control)."""
from __future__ import annotations

import json

from flask import abort, g, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _

from portal.forms import describe, form_class
from portal.models import BranchKind, BranchStatus, OrgKind
from portal.services import queries
from portal.services.aid import MODULES
from portal.services.branches import (
    BranchFilters,
    branch_for,
    branch_history,
    branch_list,
    branch_totals,
    can_start,
    ledger_service_totals,
    start_branch,
)
from portal.services.deadlines import local_today
from portal.services.exports import export_aid_ledger, export_risk_ledger
from portal.views.exports import file_response, wanted_format
from portal.views.pages import parties_for, submit


def _filters() -> BranchFilters:
    def number(name):
        value = request.args.get(name, "")
        return int(value) if value.isdigit() else None
    kind = request.args.get("kind", "")
    status = request.args.get("status", "")
    return BranchFilters(kind=kind if kind in {k.value for k in BranchKind} else "",
                         status=status if status in {s.value for s in BranchStatus} else "",
                         township_id=number("township_id"), year=number("year"))


def _risk_filters() -> tuple[int | None, str | None]:
    """The risk ledger's filters as its page reads them."""
    township = request.args.get("township_id", "")
    state = request.args.get("state", "")
    return (int(township) if township.isdigit() else None,
            state if state in ("open", "overdue", "resolved") else None)


class BranchView(BaseView):
    route_base = "/branches"
    default_view = "ledger"
    class_permission_name = "Branch"
    method_permission_name = {"start": "work", "show": "read", "ledger": "read", "risk": "read", "diagram": "read",
                              "ledger_export": "read", "risk_export": "read"}

    @expose("/start/<int:case_id>/<kind>", methods=["GET", "POST"])
    @has_access
    def start(self, case_id: int, kind: str):
        if kind not in {k.value for k in BranchKind}:
            abort(404)
        kind = BranchKind(kind)
        case = queries.case_for(g.user, case_id)
        if not can_start(g.user, case, kind):
            abort(403)
        form = form_class(MODULES[kind].APPLY_KEY)()
        form.prepare(case, None)
        return submit(self, form,
                      lambda: start_branch(g.user, case.id, kind, {k: v for k, v in form.data.items()
                                                                    if k != "csrf_token"}),
                      lambda b: _("%(kind)s started: %(number)s", kind=kind.label, number=b.number or ""),
                      lambda b: url_for("BranchView.show", branch_id=b.id), "portal/action_form.html",
                      case=case, title=_("%(kind)s: application", kind=kind.label))

    @expose("/<int:branch_id>")
    @has_access
    def show(self, branch_id: int):
        branch = branch_for(g.user, branch_id)
        history = [(item, describe(item.form_key, json.loads(item.result or "{}")))
                   for item in branch_history(branch.id)]
        return self.render_template("portal/branch.html", branch=branch, case=branch.case, history=history,
                                    parties=parties_for(g.user, branch.case), today=local_today())

    @expose("/<int:branch_id>/diagram")
    @has_access
    def diagram(self, branch_id: int):
        from flask import jsonify

        from portal.services.diagrams import workflow_diagram
        return jsonify(workflow_diagram(branch_for(g.user, branch_id)))

    @expose("/")
    @has_access
    def ledger(self):
        filters = _filters()
        return self.render_template("portal/branches.html", branches=branch_list(g.user, filters),
                                    totals=branch_totals(g.user, filters), filters=filters, kinds=list(BranchKind),
                                    services=ledger_service_totals(g.user, filters),
                                    statuses=list(BranchStatus), townships=queries.org_units(OrgKind.TOWNSHIP))

    @expose("/export")
    @has_access
    def ledger_export(self):
        """The assistance ledger as CSV or Excel, with the page's filters."""
        return file_response(export_aid_ledger(g.user, _filters(), wanted_format()))

    @expose("/risk")
    @has_access
    def risk(self):
        from portal.services.aid.risk import BASES, LEVELS, STATES, risk_ledger
        township = request.args.get("township_id", "")
        state = request.args.get("state", "")
        rows = risk_ledger(g.user, township_id=int(township) if township.isdigit() else None,
                           state=state if state in ("open", "overdue", "resolved") else None)
        return self.render_template("portal/risk_ledger.html", rows=rows, bases=BASES, levels=LEVELS,
                                    states=STATES, township_id=township, state=state,
                                    townships=queries.org_units(OrgKind.TOWNSHIP))

    @expose("/risk/export")
    @has_access
    def risk_export(self):
        """The risk-control ledger as CSV or Excel, with the page's filters."""
        return file_response(export_risk_ledger(g.user, *_risk_filters(), wanted_format()))
