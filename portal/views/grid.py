"""流动调: the grid member's phone page to report from the scene, and the member's own reports."""
from __future__ import annotations

from flask import g, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _

from portal.forms.grid import GridReportForm
from portal.models import CaseStatus
from portal.services import queries
from portal.services.attachments import human_size
from portal.services.errors import DomainError
from portal.services.grid_reports import (
    MAX_PHOTOS,
    GridParty,
    GridPhoto,
    GridReportData,
    OnTheSpot,
    grid_of,
    my_reports,
    photo_limit,
    report_incident,
    villages_of,
)
from portal.views.pages import submit


def _report_data(form: GridReportForm) -> GridReportData:
    spot = OnTheSpot(applicant_statement=form.applicant_statement.data or "",
                     respondent_statement=form.respondent_statement.data or "",
                     how_resolved=form.how_resolved.data or "", terms=form.terms.data or "",
                     fulfilment=form.fulfilment.data or "", both_agreed=bool(form.both_agreed.data),
                     applicant_satisfaction=form.applicant_satisfaction.data or "",
                     respondent_satisfaction=form.respondent_satisfaction.data or "")
    photos = [GridPhoto(f.filename or "", f.read()) for f in form.photos.data or [] if f and f.filename]
    return GridReportData(
        dispute_type_id=form.dispute_type_id.data, village_id=form.village_id.data,
        place_kind=form.place_kind.data, place_detail=form.place_detail.data or "", facts=form.facts.data or "",
        requests=form.requests.data or "", people_count=form.people_count.data, outcome=form.outcome.data,
        parties=[GridParty(p.kind.data, p.name.data or "", p.phone.data or "", p.id_number.data or "")
                 for p in form.named_parties()],
        latitude=form.latitude.data, longitude=form.longitude.data, accuracy_m=form.accuracy_m.data,
        photos=photos, on_the_spot=spot)


def _done(report) -> str:
    case = report.case
    if case.status == CaseStatus.CLOSED:
        return _("Case %(code)s registered and closed as resolved on the spot.", code=case.code)
    if case.status == CaseStatus.TRIAGING:
        return _("Case %(code)s registered. The triage rules rate it high risk or difficult: it waits for the "
                 "county center's triage.", code=case.code)
    return _("Case %(code)s registered and sent to the window of %(township)s.", code=case.code,
             township=case.township.name)


class GridReportView(BaseView):
    route_base = "/grid"
    default_view = "report"
    class_permission_name = "GridReport"
    method_permission_name = {"report": "report", "reports": "report"}

    @expose("/report", methods=["GET", "POST"])
    @has_access
    def report(self):
        try:
            place = grid_of(g.user)
        except DomainError as exc:   # an administrator may open the page, only a grid member reports
            return self.render_template("portal/grid_report.html", form=None, refusal=str(exc))
        form = GridReportForm(data={"parties": [{"kind": "applicant"}, {"kind": "respondent"}]})
        form.set_choices(queries.dispute_types(), villages_of(place.township), place.village.id)
        return submit(self, form, lambda: report_incident(g.user, _report_data(form)), _done,
                      url_for("GridReportView.reports"), "portal/grid_report.html", place=place,
                      max_photos=MAX_PHOTOS, photo_limit=photo_limit(), photo_limit_text=human_size(photo_limit()))

    @expose("/reports")
    @has_access
    def reports(self):
        return self.render_template("portal/grid_reports.html", reports=my_reports(g.user))
