"""The embed script's route and its size budget."""

import gzip

import pytest

from commentsvc.embed.views import STATIC, minify

BUDGET = 8 * 1024  # bytes of embed.js as readers get it, gzipped (Isso's is 20 KB)
# Each script embed.js loads on first use (embed-extra.js, embed-captcha.js,
# embed-auth.js).
EXTRA_BUDGET = 4 * 1024


def test_embed_js_fits_the_gzipped_budget():
    served = minify((STATIC / "embed.js").read_bytes())
    size = len(gzip.compress(served, compresslevel=9))
    assert size <= BUDGET, f"embed.js is {size} bytes gzipped, over {BUDGET}"


@pytest.mark.parametrize(
    "name, exported",
    [
        # The reader features loaded on first use (report, edit, delete, permalinks).
        ("embed-extra.js", b"commentsvcExtra"),
        # The captcha widget, loaded on first touch of a form (with the provider's).
        ("embed-captcha.js", b"commentsvcCaptcha"),
        # Signing in and the reader's account, loaded on first use.
        ("embed-auth.js", b"commentsvcAuth"),
    ],
)
def test_the_parts_loaded_later_fit_their_budget_and_are_served_like_embed_js(
    client, name, exported
):
    served = minify((STATIC / name).read_bytes())
    size = len(gzip.compress(served, compresslevel=9))
    assert size <= EXTRA_BUDGET, f"{name} is {size} bytes, over {EXTRA_BUDGET}"
    response = client.get(f"/{name}", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.content_type == "text/javascript; charset=utf-8"
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.cache_control.max_age == 3600
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert gzip.decompress(response.data) == served
    assert exported in served


def test_embed_js_is_javascript_cacheable_and_revalidates_with_its_etag(client):
    response = client.get("/embed.js")
    assert response.status_code == 200
    assert response.content_type == "text/javascript; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.cache_control.public
    assert response.cache_control.max_age == 3600
    assert response.data == minify((STATIC / "embed.js").read_bytes())
    assert response.data.startswith(b"/*! commentsvc embed")
    etag = response.headers["ETag"]

    again = client.get("/embed.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""


def test_embed_js_is_sent_gzipped_to_clients_that_accept_it(client):
    plain = client.get("/embed.js")
    response = client.get("/embed.js", headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert len(response.data) <= BUDGET
    assert gzip.decompress(response.data) == plain.data
    # Another representation, another ETag (caches must not mix them up).
    assert response.headers["ETag"] != plain.headers["ETag"]
    again = client.get(
        "/embed.js",
        headers={"Accept-Encoding": "gzip", "If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304


@pytest.mark.parametrize("enabled, status", [(True, 200), (False, 404)])
def test_dev_captcha_widget_is_served_only_where_the_dev_provider_is_on(
    make_app, enabled, status
):
    client = make_app(CAPTCHA_DEV_ENABLED=enabled).test_client()
    response = client.get("/captcha-dev.js")
    assert response.status_code == status
    if enabled:
        assert response.content_type == "text/javascript; charset=utf-8"
        assert b"commentsvcDevCaptcha" in response.data


COUNT_BUDGET = 1536  # bytes of count.js as pages get it, gzipped


def test_count_js_fits_its_gzipped_budget():
    served = minify((STATIC / "count.js").read_bytes())
    size = len(gzip.compress(served, compresslevel=9))
    assert size <= COUNT_BUDGET, (
        f"count.js is {size} bytes gzipped, over {COUNT_BUDGET}"
    )


def test_count_js_is_served_like_the_embed_minified_gzipped_and_cacheable(client):
    plain = client.get("/count.js")
    assert plain.status_code == 200
    assert plain.content_type == "text/javascript; charset=utf-8"
    assert plain.cache_control.public
    assert plain.cache_control.max_age == 3600
    assert plain.headers["Access-Control-Allow-Origin"] == "*"
    assert plain.data == minify((STATIC / "count.js").read_bytes())
    assert plain.data.startswith(b"/*! commentsvc count.js")

    response = client.get("/count.js", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert len(response.data) <= COUNT_BUDGET
    assert gzip.decompress(response.data) == plain.data
    again = client.get(
        "/count.js",
        headers={"Accept-Encoding": "gzip", "If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304
