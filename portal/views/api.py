"""The REST API for other systems (the 12345 hotline, the court's platform), under ``/api/v1``.

Each request carries a client's token (``Authorization: Bearer …``) and acts as that client's service account:
no cookie, no session, no CSRF token. Every call is audited with its client, endpoint and status; errors are
JSON ``{"error": {"code", "message", "fields"}}`` with the message in the portal's language."""
from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from datetime import datetime

from flask import Blueprint, Flask, Response, current_app, g, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from portal.models import ApiScope
from portal.services import api
from portal.services.api_clients import ApiAuthError, ScopeMissingError, client_for_token, record_api_call
from portal.services.errors import (
    DATABASE_RETRY_AFTER,
    DATABASE_UNAVAILABLE,
    CaseForbiddenError,
    CaseNotFoundError,
    DomainError,
    ValidationFailed,
    database_unavailable,
)
from portal.services.queries import lanes_for
from portal.services.ratelimit import take
from portal.views import api_io
from portal.views.api_io import BadRequestError, InvalidInputError
from portal.views.cases import intake_data, intake_form, task_form
from portal.views.openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")
NO_CSRF = {"csrf": False}  # the token authenticates the request; no cookie is read
LARGEST_ID = 2**31 - 1
_KEY = re.compile(r"^[\x21-\x7e]{1,100}$")
_CODES = {ApiAuthError: "unauthorized", ScopeMissingError: "forbidden_operation", InvalidInputError: "invalid_input",
          BadRequestError: "bad_request", ValidationFailed: "invalid_input"}


class RateLimitedError(DomainError):
    status_code = 429
    message = _l("Too many requests from this API client; try again in %(retry)s seconds.")


def register_api(app: Flask) -> None:
    """Serve the API (exempt from CSRF: it reads no cookie)."""
    from portal.extensions import csrf
    csrf.exempt(bp)
    app.register_blueprint(bp)


@bp.errorhandler(500)
def internal_error(_exc):
    """A fault of the portal (logged by Flask) still answers in JSON."""
    return json_response({"error": {"code": "internal_error",
                                    "message": _("The portal could not answer; the fault is logged.")}}, 500)


@bp.errorhandler(OperationalError)
def database_down(exc: OperationalError):
    """The database cannot be reached: JSON 503 with Retry-After (the call cannot be audited either)."""
    if not database_unavailable(exc):
        raise exc   # a fault of the portal: answered by ``internal_error``
    current_app.logger.warning("database unavailable: %s %s: %s", request.method, request.path, exc.orig)
    return json_response({"error": {"code": "database_unavailable", "message": str(DATABASE_UNAVAILABLE)}}, 503,
                         {"Retry-After": str(DATABASE_RETRY_AFTER)})


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, headers=headers,
                    mimetype="application/json")


def _code(exc: DomainError) -> str:
    for cls in type(exc).__mro__:
        if cls in _CODES:
            return _CODES[cls]
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()
    return name.removesuffix("_error")


def error_response(exc: DomainError) -> Response:
    if isinstance(exc, CaseForbiddenError):  # never tell a client that a case it may not see exists
        exc = CaseNotFoundError()
    body = {"code": _code(exc), "message": str(exc)}
    if isinstance(exc, InvalidInputError):
        body["fields"] = exc.fields
    elif isinstance(exc, ValidationFailed) and exc.field:
        body["fields"] = {exc.field: [str(exc)]}
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    if isinstance(exc, RateLimitedError):
        headers = {"Retry-After": str(exc.params["retry"])}
    return json_response({"error": body}, exc.status_code, headers)


def _http_error(exc: HTTPException) -> Response:
    code = exc.code or 400
    messages = {404: _("There is no such resource."), 405: _("This method is not allowed here."),
                413: _("The request is too large (at most %(n)s KB).",
                       n=current_app.config["PORTAL_API_MAX_BYTES"] // 1024)}
    body = {"code": (exc.name or "error").lower().replace(" ", "_"), "message": messages.get(code, exc.name)}
    return json_response({"error": body}, code)


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _check_rate(client) -> None:
    limit = current_app.config.get("PORTAL_API_RATE_LIMIT")
    if limit:
        retry = take("api", f"client:{client.id}", limit)
        if retry is not None:
            raise RateLimitedError(retry=retry)


def api_call(scope: ApiScope):
    """Authenticate by token, check the client's operation, answer errors as JSON, audit the call."""
    def decorate(view):
        @functools.wraps(view)
        def wrapper(**kwargs):
            request.max_content_length = current_app.config["PORTAL_API_MAX_BYTES"]
            client = None
            try:
                client = client_for_token(_bearer())
                _check_rate(client)
                if scope not in client.scope_set:
                    raise ScopeMissingError(scope=scope.value)
                g.user = client.user
                response = view(client, **kwargs)
            except DomainError as exc:
                response = error_response(exc)
            except HTTPException as exc:  # a body too large, a step without a form
                response = _http_error(exc)
            record_api_call(client, request.method, request.path, response.status_code)
            return response
        return wrapper
    return decorate


def _case_body(client, case) -> dict:
    lanes = lanes_for(client.user)
    tasks = [api_io.task_json(item, api.can_complete(client, item, lanes)) for item in api.open_items(case)]
    return api_io.case_json(case, tasks, api.case_documents(client, case))


@bp.get("/openapi.json")
def openapi():
    """The API's description (OpenAPI 3), for the Swagger page and the integrating systems."""
    return json_response(openapi_document(request.host_url.rstrip("/") + bp.url_prefix))


@bp.post("/cases")
@api_call(ApiScope.CREATE_CASES)
def create_case(client):
    data = api_io.json_object()
    key = request.headers.get("Idempotency-Key")
    if key is not None and not _KEY.match(key):
        raise BadRequestError(_l("The Idempotency-Key must be 1 to 100 visible ASCII characters."))
    blank = intake_form(formdata=None, meta=NO_CSRF)
    formdata, errors = api_io.intake_formdata(data, api.intake_codes(api_io.codes_of(data)), blank)
    form = intake_form(formdata=api_io.with_defaults(formdata, blank), meta=NO_CSRF)
    if not form.validate() or errors:
        raise InvalidInputError(api_io.merged(api_io.form_errors(form, api_io.INTAKE_NAMES), errors))
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    try:
        case, replayed = api.register_case_for(client, intake_data(form), key, digest)
    except ValidationFailed as exc:
        if not exc.field:
            raise
        raise InvalidInputError({api_io.INTAKE_NAMES.get(exc.field, exc.field): [str(exc)]}) from exc
    location = url_for("api.show_case", code=case.code)
    headers = {"Location": location, **({"Idempotent-Replayed": "true"} if replayed else {})}
    return json_response(_case_body(client, case), 200 if replayed else 201, headers)


@bp.get("/cases")
@api_call(ApiScope.READ_CASES)
def changed_cases(client):
    since = api_io.parse_time(request.args["changed_since"]) if request.args.get("changed_since") else None
    after = _cursor(request.args["cursor"]) if request.args.get("cursor") else None
    limit = request.args.get("limit", "50")
    if not (limit.isascii() and limit.isdigit()) or not 1 <= int(limit) <= api.LONGEST_PAGE:
        raise BadRequestError(_l("limit must be a whole number from 1 to %(n)s."), n=api.LONGEST_PAGE)
    cases = api.changed_cases(client, since, after, int(limit))
    more = len(cases) == int(limit)
    return json_response({"items": [api_io.case_summary(c) for c in cases],
                          "next_cursor": _make_cursor(cases[-1]) if cases and more else None})


def _make_cursor(case) -> str:
    return base64.urlsafe_b64encode(f"{case.updated_at.isoformat()}|{case.id}".encode()).decode().rstrip("=")


def _cursor(text: str) -> api.Cursor:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        moment, _sep, case_id = raw.partition("|")
        cursor = api.Cursor(datetime.fromisoformat(moment).replace(tzinfo=None), int(case_id))
        if not 0 < cursor.case_id <= LARGEST_ID:
            raise ValueError(case_id)
        return cursor
    except (ValueError, UnicodeDecodeError):
        raise BadRequestError(_l("The cursor is not one this API gave out.")) from None


@bp.get("/cases/<code>")
@api_call(ApiScope.READ_CASES)
def show_case(client, code: str):
    return json_response(_case_body(client, api.case_for_client(client, code)))


@bp.get("/tasks/<int:item_id>")
@api_call(ApiScope.READ_CASES)
def show_task(client, item_id: int):
    """A step and the fields of its form, to fill in for ``complete``."""
    item = api.task_for_client(client, _item_id(item_id))
    form = task_form(item, formdata=None, meta=NO_CSRF)
    return json_response({**api_io.task_json(item, api.can_complete(client, item)), "case": item.case.code,
                          "status": item.status.value,
                          "fields": [api_io.field_json(f) for f in form if f.name != "csrf_token"]})


@bp.post("/tasks/<int:item_id>/complete")
@api_call(ApiScope.COMPLETE_TASKS)
def complete(client, item_id: int):
    """Complete a step with its form's data, checked by the form and the service as on the step's page."""
    data = api_io.json_object()
    item = api.task_for_client(client, _item_id(item_id))
    blank = task_form(item, formdata=None, meta=NO_CSRF)
    formdata, errors = api_io.formdata_for(blank, data)
    form = task_form(item, formdata=api_io.with_defaults(formdata, blank), meta=NO_CSRF)
    if not form.validate() or errors:
        raise InvalidInputError(api_io.merged(api_io.form_errors(form), errors))
    case = api.complete_task_for(client, item.id, {k: v for k, v in form.data.items() if k != "csrf_token"})
    return json_response(_case_body(client, case))


def _item_id(item_id: int) -> int:
    if item_id > LARGEST_ID:  # no such row, and more than the database's integers hold
        raise api.TaskNotFoundError()
    return item_id


@bp.get("/cases/<code>/documents/<key>")
@api_call(ApiScope.READ_DOCUMENTS)
def document(client, code: str, key: str):
    from portal.views.pages import pdf_response
    pdf, name, missing = api.print_document_for(client, code, key)
    response = pdf_response(pdf, name)
    response.headers["X-Document-Missing"] = json.dumps(missing)  # ASCII-escaped for the header
    return response


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str):  # noqa: ARG001
    """Anything else under /api/v1: a JSON 404 (audited like every call)."""
    try:
        client = client_for_token(_bearer())
    except ApiAuthError:
        client = None
    response = json_response({"error": {"code": "not_found",
                                        "message": _("There is no such endpoint, or not with this method.")}}, 404)
    record_api_call(client, request.method, request.path, 404)
    return response
