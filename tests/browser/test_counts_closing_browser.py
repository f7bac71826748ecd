"""count.js filling a list of articles, and the embed on a thread closed while
the reader was writing, in Chromium (the service and the article pages on two
origins)."""

import json
from urllib.parse import parse_qs, urlsplit

from factories import make_comment, make_site
from playwright.sync_api import expect

from commentsvc.comments import closing


def _list_page(server, spans: str, lang: str) -> bytes:
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>Aktualności</title>
<link rel="icon" href="data:,"></head>
<body><h1>Aktualności</h1>
{spans}
<script src="{server.url}/count.js" data-commentsvc-site="news" async></script>
</body></html>""".encode()


def test_count_js_fills_every_span_in_the_pages_language_with_one_request(
    service, article, page
):
    server = service()
    with server.app.app_context():
        site = make_site(allowed_origins=[article.origin])
        for thread, approved in (("/a", 1), ("/b", 2), ("/c", 5), ("/d", 22)):
            for _ in range(approved):
                make_comment(site, thread=thread)
        make_comment(site, thread="/e", status="pending")
    article.pages["/polish"] = (
        _list_page(
            server,
            """<ul>
<li>A <span id="a" data-commentsvc-count="/a">…</span></li>
<li><a href="/b?utm=x#comments">B <span id="b" data-commentsvc-count></span></a></li>
<li><a href="/c"><span id="c" data-commentsvc-count=""></span></a></li>
<li><span id="d" data-commentsvc-count="/d"></span>
  <span id="d2" data-commentsvc-count="/d"></span></li>
<li><span id="e" data-commentsvc-count="/e"></span></li>
<li><span id="none" data-commentsvc-count="/never-commented"></span></li>
<li><span id="bad" data-commentsvc-count="/tab&#9;in/key">…</span></li>
</ul>""",
            "pl",
        ),
        {},
    )
    requests = []
    page.on("request", lambda r: "/counts?" in r.url and requests.append(r.url))

    page.goto(article.origin + "/polish")

    expect(page.locator("#a")).to_have_text("1 komentarz")
    expect(page.locator("#b")).to_have_text("2 komentarze")  # keyed by the link
    expect(page.locator("#c")).to_have_text("5 komentarzy")
    expect(page.locator("#d")).to_have_text("22 komentarze")
    expect(page.locator("#d2")).to_have_text("22 komentarze")
    expect(page.locator("#e")).to_have_text("Brak komentarzy")  # pending only
    expect(page.locator("#none")).to_have_text("Brak komentarzy")
    # A key no thread can have is not asked for (the others still are).
    expect(page.locator("#bad")).to_have_text("…")
    assert len(requests) == 1
    asked = parse_qs(urlsplit(requests[0]).query)["thread"]
    assert sorted(asked) == ["/a", "/b", "/c", "/d", "/e", "/never-commented"]

    # English by default, strings overridden by the site; 150 threads on a
    # page: requests of at most 100 threads each.
    spans = "\n".join(
        f'<span id="k{n}" data-commentsvc-count="/k{n}"></span>' for n in range(150)
    )
    override = json.dumps({"none": "Be the first", "other": "{n} replies"})
    body = _list_page(
        server,
        f'<a href="/a"><span id="one" data-commentsvc-count></span></a>'
        f'<span id="many" data-commentsvc-count="/d"></span>{spans}',
        "en-GB",
    ).replace(
        b'data-commentsvc-site="news"',
        f"data-commentsvc-site=\"news\" data-commentsvc-strings='{override}'".encode(),
    )
    article.pages["/english"] = (body, {})
    requests.clear()

    page.goto(article.origin + "/english")

    expect(page.locator("#one")).to_have_text("1 comment")
    expect(page.locator("#many")).to_have_text("22 replies")
    expect(page.locator("#k0")).to_have_text("Be the first")
    expect(page.locator("#k149")).to_have_text("Be the first")
    assert len(requests) == 2
    asked = [parse_qs(urlsplit(url).query)["thread"] for url in requests]
    assert all(len(keys) <= 100 for keys in asked)
    assert sorted(k for keys in asked for k in keys) == sorted(
        ["/a", "/d", *(f"/k{n}" for n in range(150))]
    )


def test_a_thread_closed_while_the_reader_writes_keeps_the_draft(
    service, article, page
):
    # max-age 0: the reload below reads the listing again, not the browser's copy.
    server = service(API_CACHE_MAX_AGE=0)
    with server.app.app_context():
        site = make_site(allowed_origins=[article.origin])
        make_comment(site, author="Ann", body="First!")
    page.goto(article.add(server, "news"))
    root = page.locator("#comments")
    expect(root.get_by_role("button", name="Reply to Ann")).to_be_visible()
    root.get_by_role("textbox", name="Comment").fill("My careful words.")
    root.get_by_role("textbox", name="Name").fill("Bea")

    with server.app.app_context():
        closing.set_open("news", "/article", False)
    root.get_by_role("button", name="Post Comment").click()

    expect(root.get_by_text("Comments are closed.")).to_be_visible()
    expect(root.get_by_role("button", name="Post Comment")).to_have_count(0)
    expect(root.get_by_role("button", name="Reply to Ann")).to_have_count(0)
    expect(root.get_by_text("First!")).to_be_visible()
    draft_key = "commentsvc:news:/article:draft"
    draft = page.evaluate(f"JSON.parse(localStorage.getItem({draft_key!r}))")
    assert draft["b"] == "My careful words."
    assert draft["a"] == "Bea"

    page.reload()
    expect(root.get_by_text("Comments are closed.")).to_be_visible()
    expect(root.get_by_text("First!")).to_be_visible()
    expect(root.get_by_role("textbox", name="Comment")).to_have_count(0)
    expect(root.get_by_role("button", name="Reply to Ann")).to_have_count(0)
    draft = page.evaluate(f"JSON.parse(localStorage.getItem({draft_key!r}))")
    assert draft["b"] == "My careful words."

    # Opened again: the form comes back with the draft.
    with server.app.app_context():
        closing.set_open("news", "/article", True)
    page.reload()
    expect(root.get_by_role("textbox", name="Comment")).to_have_value(
        "My careful words."
    )
