"""The process heat map: a process's diagram with, on each step, the cases waiting there, how many
are overdue and how long the step takes; the same figures as a table and as JSON; a step's cases."""
from __future__ import annotations

from datetime import date

from flask import g, jsonify, render_template, request
from flask_appbuilder import BaseView, expose, has_access

from portal.models import OrgKind
from portal.services import queries
from portal.services.heatmap import (
    CASES_LIMIT,
    DEFAULT_PROCESS,
    HeatFilters,
    cases_at,
    heat_map,
    processes,
    step_name,
)


def _number(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


def _day(name: str, default: date | None) -> date | None:
    """A date argument: absent or unreadable, the default; empty, no bound."""
    value = request.args.get(name)
    if value is None:
        return default
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return default


def _request() -> tuple[str, HeatFilters]:
    """The process asked for and its filters (the last 90 days for dwell times unless a period is given)."""
    period = HeatFilters.default_period()
    filters = HeatFilters(township_id=_number("township_id"), dispute_type_id=_number("dispute_type_id"),
                          start=_day("start", period.start), end=_day("end", period.end))
    return request.args.get("process") or DEFAULT_PROCESS, filters


class HeatmapView(BaseView):
    route_base = "/dashboard/heatmap"
    default_view = "index"
    class_permission_name = "Heatmap"
    method_permission_name = {"index": "read", "stats": "read", "cases": "read"}

    @expose("/")
    @has_access
    def index(self):
        process, filters = _request()
        result = heat_map(g.user, process, filters)
        step = request.args.get("step", "")
        return self.render_template(
            "portal/heatmap.html", result=result, data=result.as_json(), process=process, filters=filters,
            processes=processes(), types=[t for t in queries.dispute_types() if t.parent_id is None],
            townships=queries.org_units(OrgKind.TOWNSHIP), step=step, limit=CASES_LIMIT,
            items=cases_at(g.user, process, step, filters) if step else [],
            step_label=step_name(process, step) if step else "")

    @expose("/stats")
    @has_access
    def stats(self):
        """The diagram and its steps' figures, as JSON."""
        process, filters = _request()
        return jsonify(heat_map(g.user, process, filters).as_json())

    @expose("/cases")
    @has_access
    def cases(self):
        """The cases waiting at one step (an HTML fragment the page shows when a step is clicked)."""
        process, filters = _request()
        step = request.args.get("step", "")
        return render_template("portal/_heatmap_cases.html", items=cases_at(g.user, process, step, filters),
                               step=step, step_label=step_name(process, step), limit=CASES_LIMIT)
