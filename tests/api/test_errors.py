"""The API's one error envelope, for every status it answers with; routing errors
(404, 405) under /api/ are JSON too, while pages elsewhere get HTML."""

import json

import pytest
from factories import ORIGIN, comment_payload, make_site

API = "/api/v1/sites/news/comments"


@pytest.fixture
def site(app):
    with app.app_context():
        make_site()


def assert_envelope(response, status, code):
    """``{"error": {"code", "message", "fields"}}`` and nothing else."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.json
    assert set(body) == {"error"}
    error = body["error"]
    assert {"code", "message", "fields"} <= set(error)
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    return error


def _post(data, content_type="application/json", **headers):
    return {
        "method": "POST",
        "data": data,
        "content_type": content_type,
        "headers": headers,
    }


# Every status the API answers an ordinary client with, and its code.
CASES = {
    "200 listing": ({"method": "GET", "query_string": {"thread": "/a"}}, 200, None),
    "202 posted": (_post(json.dumps(comment_payload())), 202, None),
    "304 not modified": (None, 304, None),
    "400 malformed_json": (_post("{nope"), 400, "malformed_json"),
    "403 origin_not_allowed": (
        {
            "method": "GET",
            "query_string": {"thread": "/a"},
            "headers": {"Origin": "https://evil.example"},
        },
        403,
        "origin_not_allowed",
    ),
    "404 unknown_site": (
        {"method": "GET", "path": "/api/v1/sites/nope/comments?thread=/a"},
        404,
        "unknown_site",
    ),
    "405 method_not_allowed": ({"method": "DELETE"}, 405, "method_not_allowed"),
    "413 payload_too_large": (
        _post(json.dumps(comment_payload(body="x" * 65_536))),
        413,
        "payload_too_large",
    ),
    "415 unsupported_media_type": (
        _post("body=hi", "application/x-www-form-urlencoded"),
        415,
        "unsupported_media_type",
    ),
    "422 validation_failed": (
        _post(json.dumps(comment_payload(body=""))),
        422,
        "validation_failed",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_every_status_and_its_envelope(client, site, case):
    request, status, code = CASES[case]
    if request is None:  # 304: ask again with the ETag we were given
        etag = client.get(API + "?thread=/a").headers["ETag"]
        request = {"method": "GET", "path": API + "?thread=/a"}
        request["headers"] = {"If-None-Match": etag}
    request = dict(request)
    path = request.pop("path", API)

    response = client.open(path, **request)

    if code is None:
        assert response.status_code == status
        assert "error" not in (response.json or {})
    else:
        assert_envelope(response, status, code)


def test_422_names_each_field(client, site):
    response = client.post(API, json=comment_payload(body="", author=""))

    error = assert_envelope(response, 422, "validation_failed")
    assert error["fields"] == {
        "body": "Please enter your comment!",
        "author": "Please enter your name here",
    }


@pytest.mark.parametrize("method", ["GET", "POST", "OPTIONS"])
def test_unknown_site_is_404_for_every_method(client, site, method):
    response = client.open(
        "/api/v1/sites/nosuchsite/comments?thread=/a",
        method=method,
        json=comment_payload() if method == "POST" else None,
        headers={"Origin": ORIGIN},
    )

    assert_envelope(response, 404, "unknown_site")


@pytest.mark.parametrize(
    "slug",
    ["NEWS", "news%00", "%00", "-news", "n" * 65, "new%20s", "n%C3%A9ws", "%ED%A0%80"],
)
def test_slug_no_site_can_have_is_404(client, site, slug):
    response = client.get(f"/api/v1/sites/{slug}/comments?thread=/a")

    assert_envelope(response, 404, "unknown_site")


@pytest.mark.parametrize("method", ["GET", "POST", "OPTIONS"])
def test_disallowed_origin_is_403_for_every_method(client, site, method):
    response = client.open(
        API + "?thread=/a",
        method=method,
        json=comment_payload() if method == "POST" else None,
        headers={"Origin": "https://evil.example"},
    )

    assert_envelope(response, 403, "origin_not_allowed")
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize(
    "path",
    [
        "/api/",
        "/api/v1",
        "/api/v1/",
        "/api/v1/sites",
        "/api/v1/sites/news",
        "/api/v1/sites/news/comments/1/replies",
        "/api/v2/sites/news/comments?thread=/a",
        "/api/v1/nothing-here",
    ],
)
def test_unknown_api_address_is_a_json_404(client, site, path):
    error = assert_envelope(client.get(path), 404, "not_found")

    assert error["fields"] == {}


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_wrong_method_under_api_is_a_json_405(client, site, method):
    response = client.open(API, method=method, json=comment_payload())

    error = assert_envelope(response, 405, "method_not_allowed")
    assert method in error["message"]
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert {"GET", "POST", "OPTIONS"} <= allowed


@pytest.mark.parametrize("path", ["/no-such-page", "/apix", "/api"])
def test_404_outside_the_api_is_an_html_page(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "<h1>404" in response.get_data(as_text=True)


def test_405_outside_the_api_is_an_html_page(client):
    response = client.delete("/")

    assert response.status_code == 405
    assert response.mimetype == "text/html"


def test_error_bodies_do_not_reflect_input_as_html(client, site):
    response = client.get("/api/v1/sites/%3Cscript%3E/comments?thread=/a")

    assert_envelope(response, 404, "unknown_site")
    assert response.mimetype == "application/json"
    body = client.get("/%3Cscript%3Ealert(1)%3C/script%3E").get_data(as_text=True)
    assert "<script>alert(1)" not in body
