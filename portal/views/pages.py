"""What every page of the portal does the same way: the form round trip, parties shown masked or
audited, and PDFs sent back."""
from __future__ import annotations

from urllib.parse import quote

from flask import Response, flash, redirect, request
from flask_babel import gettext as _

from portal.idcard import mask_id_number, mask_phone
from portal.roles import sees_personal_data
from portal.services.audit import record_personal_view
from portal.services.errors import DomainError, ValidationFailed


def parties_for(user, case) -> list[dict]:
    """The case's parties, with ID numbers and phones masked for roles that do not need them;
    every page that shows them unmasked is audited."""
    full = sees_personal_data(user.role_names)
    if full and case.parties and request.method == "GET":  # a form shown again after a refusal was seen already
        record_personal_view(user, case)
    return [{"kind": p.kind.label, "name": p.name,
             "id_number": (p.id_number or "") if full else mask_id_number(p.id_number),
             "phone": (p.phone or "") if full else mask_phone(p.phone), "address": p.address or "",
             "ethnicity": p.ethnicity or "", "occupation": p.occupation or ""}
            for p in case.parties]


def show_error(form, exc: DomainError) -> None:
    field = getattr(form, getattr(exc, "field", None) or "", None)
    if field is not None and isinstance(exc, ValidationFailed):
        field.errors = [*(field.errors or []), str(exc)]
    flash(str(exc), "danger")


def submit(view, form, action, done_message, done_url, template, context=None, **values):
    """The one shape of every form page: validate, call one service, then flash and redirect;
    or show the form again as typed, with the reason in the user's language and the right status.
    ``context`` (a callable) adds what only the page needs, so a successful POST does not load it."""
    status = 200
    if form.validate_on_submit():
        try:
            result = action()
        except DomainError as exc:
            show_error(form, exc)
            status = exc.status_code
        else:
            flash(done_message(result) if callable(done_message) else done_message, "success")
            return redirect(done_url(result) if callable(done_url) else done_url)
    elif request.method == "POST":
        flash(_("Please correct the marked fields; nothing was saved."), "danger")
        status = 400
    return view.render_template(template, form=form, **values, **(context() if context else {})), status


def pdf_response(pdf: bytes, name: str) -> Response:
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(name)}"})
