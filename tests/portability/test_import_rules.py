"""An import holds to the API's input rules (commentsvc.inputrules): what the
API refuses from a reader is not stored from a file either.

Per field (docs/import.md): a link that is not http(s) leaves the thread
without a link; an address the API refuses leaves the comment without one; a
name the API refuses makes the comment "Anonymous"; the summary counts each.
"""

import json

import pytest
from factories import get_site
from werkzeug.datastructures import MultiDict

from commentsvc.api.forms import CommentForm
from commentsvc.portability.keys import ThreadKeys

from .conftest import comments, run, threads

WXR = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><item>
<title>{title}</title><link>{link}</link><wp:post_id>7</wp:post_id>
<wp:comment>
  <wp:comment_id>1</wp:comment_id>
  <wp:comment_author><![CDATA[{author}]]></wp:comment_author>
  <wp:comment_author_email><![CDATA[{email}]]></wp:comment_author_email>
  <wp:comment_date_gmt>2015-03-02 11:00:00</wp:comment_date_gmt>
  <wp:comment_content><![CDATA[Hello there]]></wp:comment_content>
  <wp:comment_approved>1</wp:comment_approved>
  <wp:comment_parent>0</wp:comment_parent>
</wp:comment>
</item></channel></rss>
"""

DISQUS = """<?xml version="1.0" encoding="utf-8"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
  <thread dsq:id="1"><id>page-1</id><link>{link}</link><title>{title}</title></thread>
  <post dsq:id="2">
    <message><![CDATA[Hello there]]></message>
    <createdAt>2015-03-02T14:00:00Z</createdAt>
    <author><email><![CDATA[{email}]]></email><name><![CDATA[{author}]]></name></author>
    <thread dsq:id="1" />
  </post>
</disqus>
"""

GOOD = {
    "title": "Hello",
    "link": "https://news.example/hello/",
    "author": "Ann",
    "email": "ann@example.org",
}
RLO = "\u202e"
# What the API refuses (each checked against the API's own form below).
BAD_LINK = "javascript:alert(document.domain)//https://news.example/x"
# With a host, as an http(s) URL has one.
BAD_LINKS = [BAD_LINK, "javascript://news.example/%0Aalert(1)", "data://x.example/,hi"]
BAD_NAMES = [
    f"Ann{RLO}gpj.exe",
    "Ann\u200bBee",
    "Ann\u2066x",
    "Ann\u2028Bee",  # LINE SEPARATOR: a line break in a mail body
    # An RFC 2047 encoded word: CR LF in a mail header once decoded.
    "=?utf-8?q?Ann=0D=0AReply-To:_it@evil.test=0D=0A=0D=0AYour_session_expired?=",
]
BAD_EMAILS = [
    "ann@example.org?bcc=all@example.org",
    "ann@example.org&cc=x@example.org",
    "ann?bcc=eve@example.org",  # a valid address, misread by a mailto: link
    "not-an-address@",
    "an n@example.org",
]


def _api_refuses(app, **fields):
    """Which of *fields* the API's comment form refuses."""
    data = {
        "thread": "/t",
        "url": "https://news.example/t",
        "author": "Ann",
        "body": "Hello",
        **fields,
    }
    with app.test_request_context():
        form = CommentForm(get_site("news"), formdata=MultiDict(data))
        form.validate()
        return set(form.errors)


def _import(runner, tmp_path, kind, template=None, **fields):
    template = template or (WXR if kind == "wordpress" else DISQUS)
    path = tmp_path / f"{kind}.xml"
    path.write_text(template.format(**{**GOOD, **fields}), encoding="utf-8")
    return run(runner, "import", kind, path, "--site", "news")


@pytest.mark.parametrize("kind", ["wordpress", "disqus"])
@pytest.mark.parametrize("link", BAD_LINKS)
def test_a_javascript_link_leaves_the_thread_without_a_link(
    app, runner, site, tmp_path, kind, link
):
    assert _api_refuses(app, url=link) == {"url"}
    result = _import(runner, tmp_path, kind, link=link)
    assert "thread links that are not http(s), dropped: 1" in result.output
    with app.app_context():
        (thread,) = threads().values()
        assert thread.url == ""
        assert "javascript" not in thread.key.lower()
        (comment,) = comments().values()
        assert comment.body == "Hello there"


def test_a_javascript_link_is_no_key_in_url_mode_either(app, runner, site, tmp_path):
    keys = ThreadKeys("url")
    assert keys.key(BAD_LINK) != BAD_LINK
    assert keys.key("https://news.example/a") == "https://news.example/a"
    path = tmp_path / "wxr.xml"
    path.write_text(WXR.format(**{**GOOD, "link": BAD_LINK}), encoding="utf-8")
    run(runner, "import", "wordpress", path, "--site", "news", "--key", "url")
    with app.app_context():
        (thread,) = threads().values()
        assert thread.url == "" and not thread.key.startswith("javascript")


@pytest.mark.parametrize("kind", ["wordpress", "disqus"])
@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_name_the_api_refuses_is_not_stored(app, runner, site, tmp_path, kind, name):
    assert _api_refuses(app, author=name) == {"author"}
    result = _import(runner, tmp_path, kind, author=name)
    assert "names the API refuses, imported as Anonymous: 1" in result.output
    with app.app_context():
        (comment,) = comments().values()
        assert comment.author == "Anonymous"
        assert comment.email == "ann@example.org"  # the rest is kept


@pytest.mark.parametrize("kind", ["wordpress", "disqus"])
@pytest.mark.parametrize("email", BAD_EMAILS)
def test_an_address_the_api_refuses_is_not_stored(
    app, runner, site, tmp_path, kind, email
):
    assert _api_refuses(app, email=email) == {"email"}
    result = _import(runner, tmp_path, kind, email=email)
    assert "addresses the API refuses, dropped: 1" in result.output
    with app.app_context():
        (comment,) = comments().values()
        assert comment.email is None
        assert comment.author == "Ann"


def test_good_values_pass_untouched(app, runner, site, tmp_path):
    name = "Zoë 👩\u200d💻 O'Brien"  # a ZWJ inside an emoji is not hidden
    assert _api_refuses(app, author=name, email="Zoe+news@Example.org") == set()
    result = _import(runner, tmp_path, "wordpress", author=name, email="Zoe+n@Ex.org")
    assert "dropped" not in result.output and "Anonymous" not in result.output
    with app.app_context():
        (comment,) = comments().values()
        assert (comment.author, comment.email) == (name, "zoe+n@ex.org")
        (thread,) = threads().values()
        assert thread.url == GOOD["link"]


def test_our_own_export_holds_to_the_rules_too(app, runner, site, tmp_path):
    header = {"format": "commentsvc-export", "version": 1, "site": "x"}
    records = [
        {"type": "thread", "key": "javascript:alert(1)", "url": BAD_LINK},
        {
            "type": "comment",
            "thread": "javascript:alert(1)",
            "id": 5,
            "author": f"Eve{RLO}",
            "email": "eve@example.org?subject=hi",
            "body": "Hi",
            "status": "approved",
            "created_at": "2026-01-01T00:00:00+00:00",
        },
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps({**header, "records": records}))
    result = run(runner, "import", "commentsvc", path, "--site", "news")
    assert "thread links that are not http(s), dropped: 1" in result.output
    with app.app_context():
        (thread,) = threads().values()
        assert thread.url == ""
        (comment,) = comments().values()
        assert (comment.author, comment.email) == ("Anonymous", None)


def test_an_author_url_is_kept_only_if_it_is_http(app, runner, site, tmp_path):
    url = "<wp:comment_author_url>{}</wp:comment_author_url>"
    template = WXR.replace(
        "</wp:comment_id>", "</wp:comment_id>" + url.format(BAD_LINK)
    )
    _import(runner, tmp_path, "wordpress", template=template)
    with app.app_context():
        (comment,) = comments().values()
        assert "author_url" not in comment.signals["import"]
