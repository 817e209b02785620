"""Staff pages of online handling on a case: record a party's consent, serve a document electronically,
read a served copy, schedule an online session and record who joined it."""
from __future__ import annotations

from flask import g, send_file, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _

from portal.forms.online import ConsentForm, ScheduleSessionForm, ServeForm, SessionOutcomeForm
from portal.services import queries
from portal.services.appointments import (
    AppointmentData,
    OutcomeData,
    appointment,
    can_schedule,
    participants_of,
    record_outcome,
    schedule_session,
)
from portal.services.delivery import (
    DeliveryFileMissingError,
    can_serve,
    consents_of,
    delivery_path,
    record_consent,
    servable_documents,
    serve_document,
    staff_copy,
)
from portal.services.errors import CaseForbiddenError, TaskNotYoursError
from portal.views.pages import submit


def online_panel(user, case, mediating: bool, steps, consents, deliveries, appointments) -> dict:
    """What the case page shows of online handling: the case's consents, deliveries and scheduled
    sessions (read by the page), and what the user may do. ``mediating``: the user handles the case
    (its open mediating step is theirs), who schedules; ``steps``: every step of the case."""
    return dict(consents=consents, deliveries=deliveries, appointments=appointments,
                can_serve=can_serve(user, case, steps), can_schedule=mediating)


def _form_values(form, *skip: str) -> dict:
    return {k: v for k, v in form.data.items() if k not in ("csrf_token", *skip)}


class OnlineCaseView(BaseView):
    route_base = "/cases"
    class_permission_name = "Case"
    method_permission_name = {"consent": "work", "serve": "work", "delivery": "read", "schedule": "work",
                              "appointment": "work"}

    def _served_case(self, case_id: int):
        case = queries.case_for(g.user, case_id)
        if not can_serve(g.user, case):
            raise CaseForbiddenError()
        return case

    @expose("/<int:case_id>/consent", methods=["GET", "POST"])
    @has_access
    def consent(self, case_id: int):
        """A party's consent to online handling and electronic service, signed at the window."""
        case = self._served_case(case_id)
        form = ConsentForm()
        form.set_parties(case.parties)
        return submit(self, form, lambda: record_consent(g.user, case.id, form.party_id.data,
                                                         form.online_handling.data, form.e_service.data),
                      _("The party's consent is recorded."), url_for("CaseView.show", case_id=case_id) + "#online",
                      "portal/action_form.html", case=case, title=_("Consent to online handling and service"))

    @expose("/<int:case_id>/deliveries", methods=["GET", "POST"])
    @has_access
    def serve(self, case_id: int):
        """Serve a document of the case electronically to a party who consented."""
        case = self._served_case(case_id)
        consents = consents_of(case.id)
        form = ServeForm()
        form.set_choices(servable_documents(case), [p for p in case.parties
                                                    if consents.get(p.id) and consents[p.id].e_service])
        return submit(self, form, lambda: serve_document(g.user, case.id, form.key.data, form.party_id.data),
                      lambda d: _("“%(title)s” served electronically to %(name)s.", title=d.title, name=d.party.name),
                      url_for("CaseView.show", case_id=case_id) + "#online", "portal/action_form.html", case=case,
                      title=_("Serve a document electronically"))

    @expose("/deliveries/<int:delivery_id>")
    @has_access
    def delivery(self, delivery_id: int):
        """The PDF as it was served (staff reading it is not the party's receipt)."""
        delivery = staff_copy(g.user, delivery_id)
        path = delivery_path(delivery)
        if not path.is_file():
            raise DeliveryFileMissingError()
        response = send_file(path, mimetype="application/pdf", download_name=f"{delivery.title}.pdf", max_age=0)
        response.headers["Cache-Control"] = "private, no-store"
        return response

    @expose("/<int:case_id>/appointments", methods=["GET", "POST"])
    @has_access
    def schedule(self, case_id: int):
        """The mediator schedules an online session ahead."""
        case = queries.case_for(g.user, case_id)
        if not can_schedule(g.user, case):
            raise TaskNotYoursError()
        form = ScheduleSessionForm()
        form.set_parties(case.parties)
        return submit(self, form, lambda: schedule_session(g.user, case.id, AppointmentData(
                          starts_at=form.starts_at.data, meeting_link=form.meeting_link.data or "",
                          participant_ids=form.participant_ids.data or [], others=form.others.data or "")),
                      _("The online session is scheduled; the parties see it on their tracking page."),
                      url_for("CaseView.show", case_id=case_id) + "#online", "portal/action_form.html", case=case,
                      title=_("Schedule an online mediation session"))

    @expose("/appointments/<int:appointment_id>", methods=["GET", "POST"])
    @has_access
    def appointment(self, appointment_id: int):
        """After the session: who joined, and the session's record."""
        found = appointment(appointment_id)
        case = queries.case_for(g.user, found.case_id)
        if not can_schedule(g.user, case):
            raise TaskNotYoursError()
        form = SessionOutcomeForm()
        form.set_parties(participants_of(found))
        return submit(self, form, lambda: record_outcome(g.user, found.id, OutcomeData(
                          attended_ids=form.attended_ids.data or [],
                          **{k: v or "" for k, v in _form_values(form, "attended_ids").items()})),
                      lambda s: _("Mediation session no. %(seq)s recorded.", seq=s.seq),
                      url_for("CaseView.show", case_id=case.id) + "#online", "portal/action_form.html", case=case,
                      title=_("Record the online session"))
