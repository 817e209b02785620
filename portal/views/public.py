"""The public pages (no login, made for a phone): file a dispute, follow it by its code and the last
four digits of the phone, add material, rate the closed case, open a document served electronically.

No method here carries ``@has_access``: Flask-AppBuilder then checks nothing, and these routes are
open to anyone. Forms carry CSRF tokens; every POST is counted per client address (``limited``)
before anything else runs. Errors are shown in the pages' own layout, not the staff one.
"""
from __future__ import annotations

import functools
import time

from flask import current_app, flash, g, redirect, render_template, request, send_file, session, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from portal.forms.public import FilingForm, MaterialForm, RatingForm, TrackForm
from portal.models import OrgKind
from portal.services import queries
from portal.services.attachments import human_size
from portal.services.delivery import DeliveryFileMissingError, delivery_path, open_delivery
from portal.services.errors import DomainError
from portal.services.filing import OnlineFiling, Upload, file_dispute
from portal.services.ratelimit import take
from portal.services.tracking import Tracker, TrackingFailed, add_material, find_tracker, rate_case, tracked_case
from portal.views.pages import show_error
from portal.views.qr import qr_svg

TRACKER, FILED = "public_tracker", "public_filed"


def _page(template: str, status: int = 200, **values):
    return render_template(f"public/{template}", **values), status


def _error(message: str, status: int, headers: dict | None = None):
    body, _status = _page("error.html", message=message)
    return body, status, headers or {}


def limited(action: str):
    """Count each POST of ``action`` from the client's address; past the limit, 429 and nothing runs."""
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if request.method == "POST":
                retry = take(action, request.remote_addr or "-")
                if retry is not None:
                    minutes = max(1, -(-retry // 60))
                    return _error(_("Too many requests from your address. Please try again in %(n)s minutes.",
                                    n=minutes), 429, {"Retry-After": str(retry)})
            return fn(*args, **kwargs)
        return wrapper
    return decorate


def _uploads(field) -> list[Upload]:
    return [Upload(f.filename or "", f.read()) for f in (field.data or []) if f and f.filename]


def _filing(form: FilingForm) -> OnlineFiling:
    text = {name: (getattr(form, name).data or "") for name in (
        "applicant_name", "applicant_id_number", "applicant_phone", "applicant_address", "respondent_name",
        "respondent_phone", "respondent_address", "place_kind", "place_detail", "facts", "requests")}
    return OnlineFiling(**text, dispute_type_id=form.dispute_type_id.data, township_id=form.township_id.data,
                        village_id=form.village_id.data or None, consent_online=form.consent_online.data,
                        consent_e_service=form.consent_e_service.data, uploads=_uploads(form.files))


def _tracker() -> Tracker | None:
    """Who this browser is following, while the tracking page is still open."""
    kept = session.get(TRACKER)
    if not kept or kept.get("until", 0) < time.time():
        session.pop(TRACKER, None)
        return None
    return Tracker(case_id=kept["case"], party_id=kept["party"])


def _staff():
    """The logged-in staff member, if any (their opening of a served document is no receipt)."""
    user = getattr(g, "user", None)
    return user if user is not None and user.is_authenticated else None


class PublicView(BaseView):
    route_base = "/public"
    default_view = "index"

    def create_blueprint(self, appbuilder, endpoint=None, static_folder=None):
        blueprint = super().create_blueprint(appbuilder, endpoint, static_folder)
        blueprint.register_error_handler(DomainError, lambda exc: _error(str(exc), exc.status_code))
        blueprint.register_error_handler(413, lambda _exc: _error(_(
            "The files together are more than one submission may carry (%(limit)s). Send fewer at a time: "
            "material can be added to the case after filing.",
            limit=human_size(current_app.config["MAX_CONTENT_LENGTH"])), 413))
        blueprint.register_error_handler(CSRFError, lambda _exc: _error(
            _("The page had expired. Please go back, reload it and send it again."), 400))
        return blueprint

    @expose("/")
    def index(self):
        return _page("index.html")

    @expose("/file", methods=["GET", "POST"])
    @limited("file")
    def file(self):
        """网上申请调解: the filing becomes a case at the window."""
        form = FilingForm()
        form.set_choices(queries.dispute_types(), queries.org_units(OrgKind.TOWNSHIP),
                         queries.org_units(OrgKind.VILLAGE))
        status = 200
        if form.validate_on_submit():
            try:
                case = file_dispute(_filing(form))
            except DomainError as exc:
                show_error(form, exc)
                status = exc.status_code
            else:
                session[FILED] = case.code
                return redirect(url_for("PublicView.filed"))
        elif request.method == "POST":
            status = 400
        return _page("file.html", status, form=form,
                     max_size=human_size(current_app.config["PORTAL_ATTACHMENT_MAX_BYTES"]),
                     max_files=current_app.config["PORTAL_PUBLIC_MAX_FILES"])

    @expose("/filed")
    def filed(self):
        code = session.get(FILED)
        if not code:
            return redirect(url_for("PublicView.file"))
        link = url_for("PublicView.track", code=code, _external=True)
        return _page("filed.html", code=code, qr=qr_svg(link), link=link)

    @expose("/track", methods=["GET", "POST"])
    @limited("track")
    def track(self):
        """进度查询: the same answer for an unknown code and a wrong pair (status, page and work)."""
        form = TrackForm() if request.method == "POST" else TrackForm(code=request.args.get("code", "")[:32])
        if form.validate_on_submit():
            tracker = find_tracker(form.code.data, form.phone_tail.data)
            if tracker is None:  # nothing typed is shown again: the page is the same for every failure
                failed = TrackingFailed()
                return _page("track.html", failed.status_code, form=TrackForm(formdata=None), error=str(failed))
            minutes = current_app.config["PORTAL_PUBLIC_TRACK_MINUTES"]
            session[TRACKER] = {"case": tracker.case_id, "party": tracker.party_id,
                                "until": int(time.time()) + 60 * minutes}
            return redirect(url_for("PublicView.case"))
        return _page("track.html", 400 if request.method == "POST" else 200, form=form, error=None)

    def _case_page(self, tracker: Tracker, material=None, rating=None, status: int = 200):
        return _page("case.html", status, case=tracked_case(tracker), material=material or MaterialForm(formdata=None),
                     rating=rating or RatingForm(formdata=None))

    @expose("/case")
    def case(self):
        tracker = _tracker()
        if tracker is None:
            return redirect(url_for("PublicView.track"))
        return self._case_page(tracker)

    @expose("/case/material", methods=["POST"])
    @limited("material")
    def material(self):
        tracker = _tracker()
        if tracker is None:
            return redirect(url_for("PublicView.track"))
        form = MaterialForm()
        return self._act(tracker, form, lambda: add_material(tracker, _uploads(form.files)),
                         lambda n: _("%(n)s file(s) added to your case.", n=n), material=form)

    @expose("/case/rating", methods=["POST"])
    @limited("rate")
    def rating(self):
        tracker = _tracker()
        if tracker is None:
            return redirect(url_for("PublicView.track"))
        form = RatingForm()
        return self._act(tracker, form, lambda: rate_case(tracker, form.stars.data, form.comment.data or ""),
                         lambda _r: _("Thank you for your rating."), rating=form)

    def _act(self, tracker: Tracker, form, action, done, **forms):
        """Call one service; on success back to the case page with a note, else the page with the reason."""
        if form.validate_on_submit():
            try:
                result = action()
            except DomainError as exc:
                show_error(form, exc)
                return self._case_page(tracker, status=exc.status_code, **forms)
            flash(done(result), "success")
            return redirect(url_for("PublicView.case"))
        return self._case_page(tracker, status=400, **forms)

    @expose("/d/<token>")
    def delivery(self, token: str):
        """电子送达: the party opens the served document (the first opening is the receipt)."""
        delivery = open_delivery(token, "page", _staff())
        return _page("delivery.html", delivery=delivery, token=token)

    @expose("/d/<token>/pdf")
    def delivery_pdf(self, token: str):
        delivery = open_delivery(token, "pdf", _staff())
        path = delivery_path(delivery)
        if not path.is_file():
            raise DeliveryFileMissingError()
        response = send_file(path, mimetype="application/pdf", download_name=f"{delivery.title}.pdf", max_age=0)
        response.headers["Cache-Control"] = "private, no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
