"""Schemathesis fuzzes the public API against its OpenAPI document.

Every operation gets the examples phase (the document's examples), the coverage
phase (boundaries, missing and wrong-typed fields, undeclared methods) and a
bounded fuzzing phase, positive and negative. The app is the real one, called
in-process over WSGI, with two seeded sites; every answer must be below 500 and
must match the document: a declared status code, its content type, its body
schema and its headers.

The schema is loaded from the file (test_openapi_document.py proves the app
serves exactly it): schemathesis's fixture-based loader, ``from_fixture``, reads
``request.node._nodeid``, which pytest 9.2 no longer has.
"""

import pytest
import schemathesis
from factories import make_comment, make_site
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from commentsvc.api.openapi import DOCUMENT_PATH as DOCUMENT
from commentsvc.extensions import db
from commentsvc.models import CaptchaProvider, CommentStatus

SITE = "news"  # the document's example
DEV_CAPTCHA_SITE = "dev"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

CONFIG = {
    # Bounded: the whole run stays well under a minute on both backends.
    "generation": {"max-examples": 25, "database": "none", "mode": "all"},
    "phases": {"stateful": {"enabled": False}},
    # Most requests name the seeded site; the rest any slug (mostly unknown).
    "dictionaries": {"sites": {"values": [SITE, DEV_CAPTCHA_SITE]}},
    "parameters": {"path.site": {"dictionary": "sites", "probability": 0.8}},
    "suppress-health-check": ["all"],
}


@pytest.fixture
def fuzz_app(make_app):
    """The app with two seeded sites: one without a captcha (so that posts can
    succeed) holding a thread with a published comment, a reply and a pending
    one; one with the dev captcha."""
    app = make_app(CAPTCHA_DEV_ENABLED=True)
    with app.app_context():
        make_site(DEV_CAPTCHA_SITE, "Dev", captcha_provider=CaptchaProvider.DEV)
        site = make_site(SITE)
        parent = make_comment(site)
        make_comment(site, parent_id=parent.id)
        make_comment(site, status=CommentStatus.PENDING)
        db.session.remove()
    return app


# The document in the package (a test proves the app serves exactly this file).
schema = schemathesis.openapi.from_path(
    DOCUMENT, config=schemathesis.Config.from_dict(CONFIG)
)


@schema.parametrize()
def test_api_answers_as_documented(case, fuzz_app):
    case.call_and_validate(app=fuzz_app, checks=CHECKS)
