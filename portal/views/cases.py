"""Case pages: register at the window, find by code, show, and work a step."""
from __future__ import annotations

import json

from flask import abort, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _

from portal.forms import (
    UNIT_FORM_KEY,
    AttachmentForm,
    ConfirmationApplyForm,
    ConfirmationDecisionForm,
    ExtensionRequestForm,
    IntakeForm,
    InvestigationForm,
    PauseForm,
    RaiseCardForm,
    ServiceForm,
    SessionForm,
    describe,
    form_class,
)
from portal.idcard import mask_id_number
from portal.models import (
    Branch,
    BranchKind,
    CaseAttachment,
    CaseComment,
    CaseScore,
    DeadlinePause,
    DocumentDelivery,
    ExtensionRequest,
    OrgKind,
    PartyConsent,
    PartyKind,
    ServiceReferral,
    SessionAppointment,
    SupervisionCard,
)
from portal.roles import sees_personal_data
from portal.services import queries
from portal.services.appointments import appointments_of
from portal.services.attachments import (
    PERSONAL_CATEGORIES,
    AttachmentNotAllowedError,
    add_attachment,
    attachments_of,
    can_add_attachment,
    open_attachment,
)
from portal.services.branches import branch_totals, can_start, no_branch_totals
from portal.services.cases import IntakeData, PartyData, complete_task, register_case
from portal.services.claims import claim, reassign, release
from portal.services.comments import add_comment, comments_of
from portal.services.confirmation import apply_for_confirmation, can_apply, record_confirmation_ruling
from portal.services.deadlines import local_today
from portal.services.delivery import consents_of, deliveries_of
from portal.services.departments import detail_rows
from portal.services.documents import FILE_KINDS, load_case_file
from portal.services.documents.render import documents_of
from portal.services.errors import DomainError
from portal.services.extensions import (
    can_request_extension,
    extensions_of,
    pause_deadline,
    pauses_of,
    request_extension,
    resume_deadline,
)
from portal.services.investigations import InvestigationData, record_investigation
from portal.services.referrals import (
    ServiceData,
    ServiceNotAllowedError,
    can_record_service,
    record_service,
    service_totals,
    services_of,
)
from portal.services.sessions import SessionData, mediating_item, record_session
from portal.services.steps import ASSIGNABLE_KINDS
from portal.services.supervision import SUPERVISORS, cards_of, raise_card
from portal.views.online import online_panel
from portal.views.pages import parties_for, submit
from portal.views.qr import qr_svg


def intake_data(form: IntakeForm) -> IntakeData:
    parties = [PartyData(PartyKind.APPLICANT.value, **e.data) for e in form.applicants] + \
              [PartyData(PartyKind.RESPONDENT.value, **e.data) for e in form.respondents]
    return IntakeData(title=form.title.data, dispute_type_id=form.dispute_type_id.data,
                      township_id=form.township_id.data, village_id=form.village_id.data or None,
                      place_kind=form.place_kind.data, place_detail=form.place_detail.data or "",
                      facts=form.facts.data, requests=form.requests.data, amount=form.amount.data,
                      people_count=form.people_count.data, source_channel=form.source_channel.data,
                      parties=parties, route=form.route.data, accused_unit_id=form.accused_unit_id.data)


def _registered(case) -> str:
    message = _("Case registered. Case code: %(code)s", code=case.code)
    repeats = queries.repeat_cases(g.user, case)
    if repeats:
        message += " " + _("Note: a party appears in %(n)s other case(s): %(codes)s", n=len(repeats),
                           codes="、".join(c.code for c in repeats[:5]))
    return message


def _prepare(form, form_key: str) -> None:
    if form_key == "intake":
        form.set_choices(queries.dispute_types(), queries.org_units(OrgKind.TOWNSHIP),
                         queries.org_units(OrgKind.VILLAGE), queries.org_units(OrgKind.DEPARTMENT, OrgKind.TOWNSHIP))
    elif form_key == "dispatch":
        form.set_choices(queries.org_units(*ASSIGNABLE_KINDS))


def intake_form(**kwargs) -> IntakeForm:
    """The intake form with the county's choices (``kwargs``: formdata, meta as WTForms takes them)."""
    form = IntakeForm(**kwargs)
    _prepare(form, "intake")
    return form


def task_form(item, **kwargs):
    """The form of an open step as the step's page shows it: the step's (or the unit's) form, opening
    with the rules' proposals, with its choices. ``kwargs``: formdata, meta as WTForms takes them."""
    # Only the handling step's form reads the case here (a step's service loads the case itself, locked).
    unit = item.case.assigned_unit if item.form_key == UNIT_FORM_KEY else None
    form_cls = form_class(item.form_key, unit) or abort(404)
    defaults = json.loads(item.form_defaults or "{}")
    if "assigned_unit_code" in defaults:  # rules propose a unit by its code
        defaults["assigned_unit_id"] = queries.org_unit_id(defaults.pop("assigned_unit_code"))
    form = form_cls(data=defaults, **kwargs)
    _prepare(form, item.form_key)
    if hasattr(form, "prepare"):  # a branch's form: choices from the case
        form.prepare(item.case, item.branch)
    return form


# The kinds of record the case page lists: a case has none of most, and one query tells which it has.
# The case file's kinds are asked too, and it reads only those the case has.
_LISTED = tuple(dict.fromkeys((
    CaseComment, SupervisionCard, CaseScore, ExtensionRequest, DeadlinePause, ServiceReferral, Branch, CaseAttachment,
    PartyConsent, DocumentDelivery, SessionAppointment, *FILE_KINDS)))


def _case_page(case, upload_form=None) -> dict:
    """What the case page shows; ``upload_form``: the attachment form as typed, after a refusal.
    The case's steps and papers are read once, for the page and for its list of documents; of the
    other kinds of record, only those the case has."""
    user = g.user
    present = queries.kinds_present(case.id, _LISTED)

    def listed(model, read, none):
        return read(case.id) if model in present else none
    steps = queries.case_history(case.id)
    history = [(item, describe(item.form_key, json.loads(item.result or "{}"), item.org_unit)) for item in steps]
    dept_title, dept_rows = detail_rows(case)
    mediating = mediating_item(user, case, steps) is not None
    if upload_form is None and can_add_attachment(user, case, steps):
        upload_form = AttachmentForm(formdata=None)
    attachments = listed(CaseAttachment, attachments_of, {})
    sees_personal = sees_personal_data(user.role_names)
    f = load_case_file(case, not sees_personal, local_today(), steps=steps, attachments=attachments, present=present)
    page = dict(case=case, history=history,
                repeats=queries.repeat_cases(user, case), comments=listed(CaseComment, comments_of, []),
                lanes=queries.lanes_for(user), qr=qr_svg(case.code), cards=listed(SupervisionCard, cards_of, []),
                score=listed(CaseScore, queries.case_score, None),
                extensions=listed(ExtensionRequest, extensions_of, []),
                can_extend=can_request_extension(user, case, steps), pauses=listed(DeadlinePause, pauses_of, []),
                can_supervise=bool(SUPERVISORS & user.role_names),
                confirmation=f.confirmation, can_confirm=can_apply(case),
                sessions=f.sessions, dept_title=dept_title, dept_rows=dept_rows,
                can_record_session=mediating, investigations=f.investigations,
                can_record_investigation=mediating, services=listed(ServiceReferral, services_of, []),
                service_totals=listed(ServiceReferral, service_totals, (0, 0, 0)),
                can_record_service=can_record_service(user, case, steps),
                attachments=attachments, upload_form=upload_form, branches=[b.branch for b in f.branches],
                branch_totals=(branch_totals(user, case_id=case.id) if Branch in present else no_branch_totals()),
                startable=[k for k in BranchKind if can_start(user, case, k)],
                personal_categories=PERSONAL_CATEGORIES, sees_personal=sees_personal,
                documents=documents_of(f),
                **online_panel(user, case, mediating, steps, consents=listed(PartyConsent, consents_of, {}),
                               deliveries=listed(DocumentDelivery, deliveries_of, []),
                               appointments=listed(SessionAppointment, appointments_of, [])))
    # Last: seeing the parties unmasked is audited in a transaction of its own, after which the page
    # reads nothing more (another transaction would cost its BEGIN, COMMIT and the pool's check).
    page["parties"] = parties_for(user, case)
    return page


class CaseView(BaseView):
    route_base = "/cases"
    default_view = "find"
    class_permission_name = "Case"
    method_permission_name = {"show": "read", "find": "read", "register": "register", "task": "work",
                              "card": "supervise", "extension": "work", "pause": "work", "resume": "work",
                              "confirmation": "work", "ruling": "work", "session": "work",
                              "investigation": "work", "service": "work", "upload": "work", "attachment": "read",
                              "claim": "work", "release": "work", "reassign": "work", "comment": "work",
                              "repeats": "supervise", "diagram": "read"}

    @expose("/register", methods=["GET", "POST"])
    @has_access
    def register(self):
        form = intake_form()
        return submit(self, form, lambda: register_case(g.user, intake_data(form)),
                       lambda case: _registered(case),
                       lambda case: url_for("CaseView.show", case_id=case.id), "portal/register.html")

    @expose("/find")
    @has_access
    def find(self):
        code = (request.args.get("code") or "").strip()
        if code:
            try:
                case = queries.case_by_code(g.user, code)
            except DomainError as exc:
                flash(str(exc), "danger")
                return self.render_template("portal/find.html", code=code), exc.status_code
            return redirect(url_for("CaseView.show", case_id=case.id))
        return self.render_template("portal/find.html", code="")

    @expose("/<int:case_id>")
    @has_access
    def show(self, case_id: int):
        case = queries.case_for(g.user, case_id)
        return self.render_template("portal/case.html", **_case_page(case))

    @expose("/<int:case_id>/comment", methods=["POST"])
    @has_access
    def comment(self, case_id: int):
        try:
            add_comment(g.user, case_id, request.form.get("body", ""))
        except DomainError as exc:
            flash(str(exc), "danger")
            if exc.status_code != 400:
                abort(exc.status_code)
        else:
            flash(_("Comment added."), "success")
        return redirect(url_for("CaseView.show", case_id=case_id) + "#comments")

    @expose("/step/<int:item_id>/claim", methods=["POST"])
    @has_access
    def claim(self, item_id: int):
        return self._claim_action(item_id, claim, _("You have claimed the step."))

    @expose("/step/<int:item_id>/release", methods=["POST"])
    @has_access
    def release(self, item_id: int):
        return self._claim_action(item_id, release, _("The step is back with the unit."))

    def _claim_action(self, item_id, action, message):
        item = queries.work_item(item_id) or abort(404)
        queries.check_case_visible(g.user, item.case_id)
        try:
            action(g.user, item_id)
        except DomainError as exc:
            flash(str(exc), "danger")
            return redirect(request.referrer or url_for("WorklistView.todo"))
        flash(message, "success")
        return redirect(request.referrer or url_for("WorklistView.todo"))

    @expose("/reassign", methods=["POST"])
    @has_access
    def reassign(self):
        ids = [int(i) for i in request.form.getlist("item_ids") if i.isdigit()]
        target = request.form.get("to_user_id", "")
        try:
            items = reassign(g.user, ids, int(target) if target.isdigit() else 0)
        except DomainError as exc:
            flash(str(exc), "danger")
        else:
            flash(_("%(n)s step(s) handed over.", n=len(items)), "success")
        return redirect(request.referrer or url_for("WorklistView.todo"))

    @expose("/repeats")
    @has_access
    def repeats(self):
        """The director's list of repeat parties: ID numbers found in more than one case."""
        full = sees_personal_data(g.user.role_names)
        rows = [((number if full else mask_id_number(number)), name, count, cases)
                for number, name, count, cases in queries.repeat_parties()]
        return self.render_template("portal/repeats.html", rows=rows)

    @expose("/<int:case_id>/session", methods=["GET", "POST"])
    @has_access
    def session(self, case_id: int):
        case = queries.case_for(g.user, case_id)
        form = SessionForm()
        return submit(self, form, lambda: record_session(g.user, case.id, SessionData(
                           **{k: (v or "") if k != "held_at" else v for k, v in form.data.items()
                              if k != "csrf_token"})),
                       lambda s: _("Mediation session no. %(seq)s recorded.", seq=s.seq),
                       url_for("CaseView.show", case_id=case_id), "portal/action_form.html", case=case,
                       title=_("Record a mediation session"))

    @expose("/<int:case_id>/investigation", methods=["GET", "POST"])
    @has_access
    def investigation(self, case_id: int):
        case = queries.case_for(g.user, case_id)
        form = InvestigationForm()
        return submit(self, form, lambda: record_investigation(g.user, case.id, InvestigationData(
                           **{k: (v or "") if k != "held_at" else v for k, v in form.data.items()
                              if k != "csrf_token"})),
                       lambda r: _("Investigation no. %(seq)s recorded.", seq=r.seq),
                       url_for("CaseView.show", case_id=case_id) + "#investigations", "portal/action_form.html",
                       case=case, title=_("Record an investigation"))

    @expose("/<int:case_id>/service", methods=["GET", "POST"])
    @has_access
    def service(self, case_id: int):
        case = queries.case_for(g.user, case_id)
        if not can_record_service(g.user, case):
            raise ServiceNotAllowedError()
        form = ServiceForm()
        form.set_parties(case.parties)
        return submit(self, form, lambda: record_service(g.user, case.id, ServiceData(
                           **{k: v for k, v in form.data.items() if k != "csrf_token"})),
                       lambda s: _("Service no. %(seq)s recorded.", seq=s.seq),
                       url_for("CaseView.show", case_id=case_id) + "#services", "portal/action_form.html",
                       case=case, title=_("Record a social service"))

    @expose("/<int:case_id>/attachments", methods=["POST"])
    @has_access
    def upload(self, case_id: int):
        """Attach a paper from the case page; a refusal shows the page again with the reason."""
        case = queries.case_for(g.user, case_id)
        if not can_add_attachment(g.user, case):
            raise AttachmentNotAllowedError()
        form = AttachmentForm()
        return submit(self, form, lambda: add_attachment(g.user, case.id, form.category.data, form.title.data,
                                                          form.file.data.filename or "", form.file.data.read()),
                       lambda a: _("“%(title)s” attached.", title=a.title),
                       url_for("CaseView.show", case_id=case_id) + "#attachments", "portal/case.html",
                       context=lambda: _case_page(case, form))

    @expose("/attachments/<int:attachment_id>")
    @has_access
    def attachment(self, attachment_id: int):
        """An attached paper, shown in the browser as what it is (the opening is audited)."""
        attachment, path = open_attachment(g.user, attachment_id)
        response = send_file(path, mimetype=attachment.content_type, download_name=attachment.filename,
                             max_age=0)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "private, no-store"
        return response

    @expose("/<int:case_id>/extension", methods=["GET", "POST"])
    @has_access
    def extension(self, case_id: int):
        case = queries.case_for(g.user, case_id)
        form = ExtensionRequestForm()
        return submit(self, form, lambda: request_extension(g.user, case.id, form.days.data, form.reason.data),
                       _("Extension requested; the director will decide."),
                       url_for("CaseView.show", case_id=case_id), "portal/action_form.html", case=case,
                       title=_("Ask for an extension"))

    @expose("/<int:case_id>/pause", methods=["GET", "POST"])
    @has_access
    def pause(self, case_id: int):
        case = queries.case_for(g.user, case_id)
        form = PauseForm()
        return submit(self, form, lambda: pause_deadline(g.user, case.id, form.reason.data, form.note.data),
                       _("The deadline clock is stopped."),
                       url_for("CaseView.show", case_id=case_id), "portal/action_form.html", case=case,
                       title=_("Stop the deadline clock"))

    @expose("/<int:case_id>/resume", methods=["POST"])
    @has_access
    def resume(self, case_id: int):
        queries.check_case_visible(g.user, case_id)
        resume_deadline(g.user, case_id)
        flash(_("The deadline clock runs again; the deadline moved by the time it was stopped."), "success")
        return redirect(url_for("CaseView.show", case_id=case_id))

    @expose("/<int:case_id>/confirmation", methods=["GET", "POST"])
    @has_access
    def confirmation(self, case_id: int):
        case = queries.case_for(g.user, case_id)
        form = ConfirmationApplyForm()
        return submit(self, form, lambda: apply_for_confirmation(g.user, case.id, form.court.data,
                                                                  form.applied_on.data, form.joint.data),
                       _("The joint application for judicial confirmation is recorded."),
                       url_for("CaseView.show", case_id=case_id), "portal/action_form.html", case=case,
                       title=_("Judicial confirmation"))

    @expose("/<int:case_id>/ruling", methods=["GET", "POST"])
    @has_access
    def ruling(self, case_id: int):
        case = queries.case_for(g.user, case_id)
        form = ConfirmationDecisionForm()
        return submit(self, form, lambda: record_confirmation_ruling(g.user, case.id, form.confirmed.data == "yes",
                                                                      form.ruling_no.data, form.decided_on.data),
                       _("The court's ruling is recorded."),
                       url_for("CaseView.show", case_id=case_id), "portal/action_form.html", case=case,
                       title=_("Judicial confirmation"))

    @expose("/<int:case_id>/diagram")
    @has_access
    def diagram(self, case_id: int):
        from flask import jsonify

        from portal.services.diagrams import workflow_diagram
        return jsonify(workflow_diagram(queries.case_for(g.user, case_id)))

    @expose("/<int:case_id>/card", methods=["GET", "POST"])
    @has_access
    def card(self, case_id: int):
        case = queries.case_for(g.user, case_id)
        form = RaiseCardForm()
        return submit(self, form, lambda: raise_card(g.user, case.id, form.level.data, form.reason.data),
                       _("Supervision card raised."),
                       url_for("CaseView.show", case_id=case_id), "portal/action_form.html", case=case,
                       title=_("Raise a supervision card"))

    @expose("/task/<int:item_id>", methods=["GET", "POST"])
    @has_access
    def task(self, item_id: int):
        item = queries.work_item(item_id, with_case=request.method != "POST") or abort(404)
        queries.check_case_visible(g.user, item.case_id)
        form = task_form(item)
        case_id, step_name = item.case_id, item.name
        return submit(self, form,
                       lambda: complete_task(g.user, item.id, {k: v for k, v in form.data.items()
                                                               if k != "csrf_token"}),
                       _("Step “%(step)s” completed.", step=step_name),
                       url_for("CaseView.show", case_id=case_id), "portal/task.html",
                       context=lambda: {"item": item, "case": item.case, "branch": item.branch,
                                        "parties": parties_for(g.user, item.case),
                                        "mine": item.can_be_done_by(g.user, queries.lanes_for(g.user))})
