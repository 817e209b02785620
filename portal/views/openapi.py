"""The REST API's description (OpenAPI 3.0), written by hand next to the views it describes; a test
validates it and checks that it names every route of the API."""
from __future__ import annotations

from portal.models import ApiScope, LawfulChannel, PlaceKind, SourceChannel


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str, headers: dict | None = None) -> dict:
    response = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def _errors(*codes: int) -> dict:
    text = {400: "Bad input: the fields and their messages (nothing was saved)",
            401: "No token, or an unknown or revoked one", 403: "The client may not do this",
            404: "No such case or step, or not one the client may see", 409: "The step is not open any more, "
            "or another request changed the case at the same moment", 413: "The request body is too large",
            422: "The Idempotency-Key was used for another request", 429: "Too many requests from this client"}
    return {str(code): _json(_ref("Error"), text[code]) for code in codes}


def _text(max_length: int | None = None, **extra) -> dict:
    return {"type": "string", **({"maxLength": max_length} if max_length else {}), **extra}


UNIT = {"type": "object", "required": ["code", "name"],
        "properties": {"code": {"type": "string"}, "name": {"type": "string"}}}
NULLABLE_UNIT = {**UNIT, "nullable": True}  # (a $ref cannot be nullable in OpenAPI 3.0)
TIME = {"type": "string", "format": "date-time", "nullable": True}

SCHEMAS: dict = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string", "example": "invalid_input"},
            "message": {"type": "string", "example": "请修改标出的填写项，本次提交未保存。"},
            "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                       "description": "Messages per field; a person's field as applicants[0].phone"}}}}},
    "Unit": UNIT,
    "Party": {"type": "object", "additionalProperties": False, "required": ["name"], "properties": {
        "name": _text(50), "id_number": _text(18, description="GB 11643 resident ID number (required of applicants)"),
        "phone": _text(20, description="11-digit mobile, or area code and number (required of applicants)"),
        "address": _text(200), "ethnicity": _text(20), "occupation": _text(100)}},
    "NewCase": {"type": "object", "additionalProperties": False,
                "required": ["title", "dispute_type_code", "township_code", "place_kind", "facts", "requests",
                             "people_count", "source_channel", "applicants", "respondents"],
                "properties": {
                    "title": _text(200, example="张三与李四宅基地边界纠纷"),
                    "dispute_type_code": _text(16, description="A dispute type of the second level", example="0301"),
                    "township_code": _text(32, example="T01"),
                    "village_code": _text(32, description="A village of the township"),
                    "place_kind": {"type": "string", "enum": [m.value for m in PlaceKind]},
                    "place_detail": _text(200),
                    "facts": _text(), "requests": _text(),
                    "amount": {"type": "number", "minimum": 0, "description": "Yuan"},
                    "people_count": {"type": "integer", "minimum": 1, "maximum": 100000},
                    "source_channel": {"type": "string", "enum": [m.value for m in SourceChannel]},
                    "route": {"type": "string", "enum": [m.value for m in LawfulChannel], "default": "mediation"},
                    "accused_unit_code": _text(32, description="检举控告: the unit accused, which never sees the case"),
                    "applicants": {"type": "array", "minItems": 1, "maxItems": 10, "items": _ref("Party")},
                    "respondents": {"type": "array", "minItems": 1, "maxItems": 10, "items": _ref("Party")}}},
    "Task": {"type": "object", "required": ["id", "name", "step", "form_key", "can_complete"], "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}, "step": {"type": "string"},
        "form_key": {"type": "string"}, "kind": {"type": "string", "enum": ["task", "card", "approval"]},
        "unit": NULLABLE_UNIT, "created_at": TIME, "due_at": TIME, "claimed": {"type": "boolean"},
        "can_complete": {"type": "boolean", "description": "This client may complete it (lane, unit, claim)"}}},
    "Field": {"type": "object", "required": ["name", "label", "type", "required"], "properties": {
        "name": {"type": "string"}, "label": {"type": "string"},
        "type": {"type": "string", "description": "The WTForms field class, e.g. SelectField, DateField"},
        "required": {"type": "boolean"}, "multiple": {"type": "boolean"}, "description": {"type": "string"},
        "choices": {"type": "array", "nullable": True, "items": {
            "type": "object", "required": ["value", "label"], "properties": {
                "value": {"type": "string"}, "label": {"type": "string"}, "group": {"type": "string"}}}}}},
    "TaskForm": {"allOf": [_ref("Task"), {"type": "object", "required": ["case", "status", "fields"], "properties": {
        "case": {"type": "string"}, "status": {"type": "string", "enum": ["open", "done", "cancelled"]},
        "fields": {"type": "array", "items": _ref("Field")}}}]},
    "CaseSummary": {"type": "object", "required": ["code", "title", "status", "status_label", "updated_at"],
                    "properties": {
                        "code": {"type": "string", "example": "MT2026000123"}, "title": {"type": "string"},
                        "status": {"type": "string"}, "status_label": {"type": "string"},
                        "current_step": {"type": "string", "nullable": True}, "township": _ref("Unit"),
                        "assigned_unit": NULLABLE_UNIT, "due_at": TIME, "registered_at": TIME,
                        "updated_at": {"type": "string", "format": "date-time"}, "closed_at": TIME}},
    "Case": {"allOf": [_ref("CaseSummary"), {"type": "object", "required": ["open_tasks", "documents"], "properties": {
        "dispute_type": _ref("Unit"), "village": NULLABLE_UNIT, "source_channel": {"type": "string"},
        "route": {"type": "string"}, "paused": {"type": "boolean"},
        "open_tasks": {"type": "array", "items": _ref("Task")},
        "documents": {"type": "array", "items": {"type": "object", "required": ["key", "title", "available"],
                                                 "properties": {"key": {"type": "string"}, "title": {"type": "string"},
                                                                "available": {"type": "boolean"}}}}}}]},
    "CasePage": {"type": "object", "required": ["items", "next_cursor"], "properties": {
        "items": {"type": "array", "items": _ref("CaseSummary")},
        "next_cursor": {"type": "string", "nullable": True,
                        "description": "Pass as cursor for the next page; null on the last page"}}},
}

CODE = {"name": "code", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 32}}
TASK_ID = {"name": "task_id", "in": "path", "required": True,
           "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}
LOCATION = {"Location": {"schema": {"type": "string"}, "description": "The case's URL in this API"}}


def _operation(summary: str, scope: ApiScope, responses: dict, **extra) -> dict:
    return {"summary": summary, "description": f"Needs the client operation `{scope.value}`.",
            "security": [{"token": []}], "responses": responses, **extra}


PATHS: dict = {
    "/cases": {
        "post": _operation(
            "Register a case (the hotline's work order, a case the court sends)", ApiScope.CREATE_CASES,
            {"201": _json(_ref("Case"), "Registered", LOCATION),
             "200": _json(_ref("Case"), "A retry: the case registered earlier under this Idempotency-Key",
                          {**LOCATION, "Idempotent-Replayed": {"schema": {"type": "string", "enum": ["true"]}}}),
             **_errors(400, 401, 403, 409, 413, 422, 429)},
            operationId="createCase",
            parameters=[{"name": "Idempotency-Key", "in": "header", "required": False,
                         "description": "Your own id of the request (e.g. the work order number): a retry with "
                                        "the same key and body gets the same case, not a second one",
                         "schema": {"type": "string", "minLength": 1, "maxLength": 100}}],
            requestBody={"required": True, "content": {"application/json": {"schema": _ref("NewCase")}}}),
        "get": _operation(
            "Cases changed since a time, oldest change first, in pages", ApiScope.READ_CASES,
            {"200": _json(_ref("CasePage"), "A page of cases"), **_errors(400, 401, 403, 429)},
            operationId="changedCases",
            parameters=[
                {"name": "changed_since", "in": "query", "required": False,
                 "description": "ISO 8601 time; without an offset it is UTC",
                 "schema": {"type": "string", "format": "date-time"}},
                {"name": "cursor", "in": "query", "required": False,
                 "description": "next_cursor of the previous page", "schema": {"type": "string"}},
                {"name": "limit", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}}]),
    },
    "/cases/{code}": {"get": _operation(
        "A case: status, current step, open steps with their ids, deadline, unit", ApiScope.READ_CASES,
        {"200": _json(_ref("Case"), "The case"), **_errors(401, 403, 404, 429)},
        operationId="getCase", parameters=[CODE])},
    "/tasks/{task_id}": {"get": _operation(
        "A step and the fields of its form", ApiScope.READ_CASES,
        {"200": _json(_ref("TaskForm"), "The step"), **_errors(401, 403, 404, 429)},
        operationId="getTask", parameters=[TASK_ID])},
    "/tasks/{task_id}/complete": {"post": _operation(
        "Complete a step with its form's data (checked as on the step's page)", ApiScope.COMPLETE_TASKS,
        {"200": _json(_ref("Case"), "Done: the case as it is now"),
         **_errors(400, 401, 403, 404, 409, 413, 429)},
        operationId="completeTask", parameters=[TASK_ID],
        requestBody={"required": True, "content": {"application/json": {"schema": {
            "type": "object", "additionalProperties": True,
            "description": "Field name -> value (text, number, true/false, or a list for a multiple choice); "
                           "see GET /tasks/{task_id} for the fields"}}}})},
    "/cases/{code}/documents/{key}": {"get": _operation(
        "One document of the case as PDF (人民调解文书)", ApiScope.READ_DOCUMENTS,
        {"200": {"description": "The PDF", "content": {"application/pdf": {"schema": {"type": "string",
                                                                                       "format": "binary"}}},
                 "headers": {"X-Document-Missing": {"schema": {"type": "string"},
                                                    "description": "JSON list of what the document lacks"}}},
         **_errors(401, 403, 404, 429)},
        operationId="getDocument",
        parameters=[CODE, {"name": "key", "in": "path", "required": True, "schema": {"type": "string"},
                           "description": "A document key listed in the case's documents"}])},
}


def openapi_document(server_url: str) -> dict:
    """The OpenAPI 3.0 document of the API served at ``server_url`` (…/api/v1)."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "矛盾纠纷调处化解平台 API", "version": "1.0.0",
                 "description": "For the systems the county's center works with (the 12345 hotline, the court's "
                                "platform). Each system has its own token, role, unit and allowed operations; it "
                                "sees the cases its unit would see on the portal's pages. Errors are JSON with a "
                                "code and a message in Chinese."},
        "servers": [{"url": server_url}],
        "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer",
                                                     "description": "The API client's token (mtk_…)"}},
                       "schemas": SCHEMAS},
        "paths": PATHS,
    }
