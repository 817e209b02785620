"""The API's OpenAPI document: valid OpenAPI 3, served as written, and naming exactly the API's routes."""
from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from portal.views.openapi import openapi_document

NOT_DESCRIBED = {"api.openapi", "api.unknown"}  # the description itself, and the JSON 404 for everything else


def test_the_document_is_valid_openapi_3():
    validate(openapi_document("http://localhost/api/v1"))


def test_the_validator_would_notice_a_broken_document():
    broken = openapi_document("http://localhost/api/v1")
    del broken["paths"]["/cases/{code}"]["get"]["responses"]["200"]["description"]
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_it_is_served_without_a_token(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200 and resp.get_json() == openapi_document("http://localhost/api/v1")


def test_it_describes_every_route_of_the_api_and_no_other(app):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint not in NOT_DESCRIBED:
            path = re.sub(r"<(?:[^:>]+:)?[^>]+>", "{}", rule.rule.removeprefix("/api/v1"))
            routes |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    described = {(re.sub(r"\{[^}]+\}", "{}", path), method)
                 for path, operations in openapi_document("x")["paths"].items() for method in operations}
    assert routes == described
