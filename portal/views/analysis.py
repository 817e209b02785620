"""Analysis pages: the units' scorecards (考核) and the monthly 矛盾纠纷排查调处情况表, with their files."""
from __future__ import annotations

from flask import g, request
from flask_appbuilder import BaseView, expose, has_access

from portal.models import CardLevel, OrgKind
from portal.services import queries
from portal.services.exports import export_scorecards
from portal.services.monthly_report import (
    TIER_NAMES,
    TIERS,
    export_monthly_report,
    monthly_report,
    parse_month,
    print_monthly_report,
    report_township,
)
from portal.services.scorecards import UnitKind, Weights, parse_period, unit_scorecards
from portal.services.settings import FORMULA_HELP
from portal.views.exports import file_response, wanted_format
from portal.views.pages import pdf_response


def _kind() -> UnitKind | None:
    kind = request.args.get("kind", "")
    return UnitKind(kind) if kind in {k.value for k in UnitKind} else None


def _args(*names: str) -> dict[str, str]:
    """The page's filters, for its export links."""
    return {name: request.args[name] for name in names if request.args.get(name)}


def _township_id() -> int | None:
    value = request.args.get("township_id", "")
    return int(value) if value.isdigit() else None


class ScorecardView(BaseView):
    route_base = "/dashboard/scorecards"
    default_view = "index"
    class_permission_name = "Scorecards"
    method_permission_name = {"index": "read", "export": "read"}

    @expose("/")
    @has_access
    def index(self):
        period, kind = parse_period(request.args.get("start"), request.args.get("end")), _kind()
        return self.render_template(
            "portal/scorecards.html", cards=unit_scorecards(g.user, period, kind), period=period, kind=kind,
            kinds=list(UnitKind), weights=Weights.current(), levels=list(CardLevel), formula=FORMULA_HELP,
            may_set=self.appbuilder.sm.has_access("can_edit", "PortalSettings"), args=_args("start", "end", "kind"))

    @expose("/export")
    @has_access
    def export(self):
        period = parse_period(request.args.get("start"), request.args.get("end"))
        return file_response(export_scorecards(g.user, period, _kind(), wanted_format()))


class MonthlyReportView(BaseView):
    route_base = "/dashboard/monthly"
    default_view = "index"
    class_permission_name = "MonthlyReport"
    method_permission_name = {"index": "read", "pdf": "read", "export": "read"}

    @expose("/")
    @has_access
    def index(self):
        year, month = parse_month(request.args.get("month"))
        report = monthly_report(g.user, year, month, _township_id())
        fixed = report_township(g.user, None) is not None  # a township's staff report on their township
        return self.render_template("portal/monthly_report.html", r=report, tiers=TIERS, tier_names=TIER_NAMES,
                                    townships=[] if fixed else queries.org_units(OrgKind.TOWNSHIP),
                                    args=_args("month", "township_id"))

    @expose("/pdf")
    @has_access
    def pdf(self):
        year, month = parse_month(request.args.get("month"))
        return pdf_response(*print_monthly_report(g.user, year, month, _township_id()))

    @expose("/export")
    @has_access
    def export(self):
        year, month = parse_month(request.args.get("month"))
        return file_response(export_monthly_report(g.user, year, month, _township_id(), wanted_format("xlsx")))
