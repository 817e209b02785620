"""The dashboard (分析汇总): the county's figures for the reader's territory, each with its formula, and
the list of the cases behind any of them."""
from __future__ import annotations

from datetime import date

from flask import g, request
from flask_appbuilder import BaseView, expose, has_access

from portal.clock import utcnow
from portal.models import SourceChannel
from portal.services import charts, kpis

LIST_LIMIT = 500


def _filters() -> kpis.KpiFilters:
    """The filters from the query string; what does not parse is left out (a reversed period is turned round)."""
    args = request.args

    def number(name):
        value = args.get(name, "")
        return int(value) if value.isdigit() else None

    def day(name):
        try:
            return date.fromisoformat(args.get(name, ""))
        except ValueError:
            return None
    start, end = day("date_from"), day("date_to")
    if start and end and start > end:
        start, end = end, start
    channel = args.get("source_channel", "")
    return kpis.KpiFilters(start, end, number("township_id"), number("dispute_type_id"),
                           channel if channel in {c.value for c in SourceChannel} else "", number("unit_id"))


class DashboardView(BaseView):
    route_base = "/dashboard"
    default_view = "index"
    class_permission_name = "Dashboard"
    method_permission_name = {"index": "read", "cases": "read"}

    @expose("/")
    @has_access
    def index(self):
        filters = _filters()
        return self.render_template("portal/dashboard.html", figures=kpis.figures(g.user, filters),
                                    charts=charts.charts(g.user, filters), filters=filters, period=filters.period(),
                                    **kpis.filter_choices(g.user))

    @expose("/cases")
    @has_access
    def cases(self):
        """The cases behind one figure (``figure``; for a rate ``part`` = hits or misses narrows it)."""
        filters = _filters()
        figure = kpis.kpi(request.args.get("figure", ""))
        part = request.args.get("part", "")
        part = part if part in kpis.PARTS and figure.hits is not None else ""
        cases = kpis.cases_behind(g.user, figure.key, filters, limit=LIST_LIMIT, part=part)
        return self.render_template("portal/dashboard_cases.html", figure=figure, part=part, cases=cases,
                                    limit=LIST_LIMIT, filters=filters, period=filters.period(), now=utcnow(),
                                    back=filters.args())
