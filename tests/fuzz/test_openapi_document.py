"""The OpenAPI document: valid, served as stored, and in step with the routes."""

import json

import pytest
from openapi_spec_validator import validate

from commentsvc.api.openapi import DOCUMENT_PATH

DOCUMENT = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def test_the_stored_document_is_valid_openapi_3_1():
    validate(DOCUMENT)  # raises OpenAPIValidationError with the path of the problem

    assert DOCUMENT["openapi"].startswith("3.1")


def test_the_app_serves_exactly_the_stored_document(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_data() == DOCUMENT_PATH.read_bytes()
    # Public: any origin (a docs viewer elsewhere) may read it.
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Set-Cookie" not in response.headers

    again = client.get(
        "/api/v1/openapi.json", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


def _documented_operations() -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in DOCUMENT["paths"].items()
        for method in item
        if method in METHODS
    }


def _routed_operations(app) -> set[tuple[str, str]]:
    operations = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = rule.rule.replace("<site_slug>", "{site}")
        path = path.replace("<int:comment_id>", "{id}")
        path = path.replace("<int:subscription_id>", "{subscription}")
        # HEAD and Flask's automatic OPTIONS come with every GET; not API operations.
        skipped = {"HEAD"} | ({"OPTIONS"} if rule.provide_automatic_options else set())
        operations |= {(m, path) for m in rule.methods - skipped}
    return operations


def test_every_api_route_is_documented_and_nothing_else(app):
    assert _documented_operations() == _routed_operations(app)


def _statuses(operation: dict) -> set[str]:
    return set(operation["responses"])


@pytest.mark.parametrize(
    "method, path, statuses",
    [
        (
            "get",
            "/api/v1/sites/{site}/comments",
            {"200", "304", "403", "404", "422", "429", "503"},
        ),
        (
            "post",
            "/api/v1/sites/{site}/comments",
            {"202", "400", "403", "404", "413", "415", "422", "429", "503"},
        ),
        ("options", "/api/v1/sites/{site}/comments", {"204", "403", "404", "429"}),
        ("post", "/api/v1/sites/{site}/form-token", {"200", "403", "404", "429"}),
        (
            "post",
            "/api/v1/sites/{site}/captcha/dev-token",
            {"200", "403", "404", "429", "503"},
        ),
    ],
)
def test_each_operation_documents_its_answers(method, path, statuses):
    assert statuses <= _statuses(DOCUMENT["paths"][path][method])


def test_errors_share_one_envelope_and_429_503_carry_retry_after():
    responses = DOCUMENT["components"]["responses"]
    schemas = DOCUMENT["components"]["schemas"]
    for name in ("RateLimited", "Unavailable"):
        assert "Retry-After" in responses[name]["headers"]
    assert "Allow" in responses["MethodNotAllowed"]["headers"]
    for name, schema in schemas.items():
        if name.endswith("Error"):
            error = schema["properties"]["error"]
            assert {"code", "message", "fields"} <= set(error["required"]), name
