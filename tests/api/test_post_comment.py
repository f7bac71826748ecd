"""POST /api/v1/sites/<site>/comments: what is accepted (202, held), what is
refused and with which message, and what is stored and later served."""

import json
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from factories import (
    ORIGIN,
    comment_payload,
    get_site,
    make_comment,
    make_site,
    rule_signals,
)

from commentsvc.extensions import db
from commentsvc.models import Comment, CommentStatus, Thread

API = "/api/v1/sites/news/comments"
ACCEPTED = "Your comment is awaiting moderation."


@pytest.fixture
def site(app):
    """The site "news" (allowing ORIGIN), stored in an app context of its own so
    that every request below runs in a fresh one, as in production."""
    with app.app_context():
        make_site()


def post(client, headers=None, **fields):
    return client.post(API, json=comment_payload(**fields), headers=headers or {})


def post_raw(client, data, content_type="application/json", headers=None):
    return client.post(API, data=data, content_type=content_type, headers=headers)


def stored(app, comment_id) -> Comment:
    """The stored row (its columns stay readable after the context closes)."""
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert comment is not None
        comment.thread  # noqa: B018  (load it while the session is open)
        return comment


def count_comments(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Comment.id)))


def approve(app, comment_id) -> None:
    """What a moderator will do; the moderation UI is another issue."""
    with app.app_context():
        db.session.execute(
            sa.update(Comment)
            .where(Comment.id == comment_id)
            .values(status=CommentStatus.APPROVED)
        )
        db.session.commit()


def add_comment(app, site_slug="news", **fields) -> int:
    with app.app_context():
        return make_comment(get_site(site_slug), **fields).id


def listing(client, thread="/article"):
    response = client.get(API, query_string={"thread": thread})
    assert response.status_code == 200
    return response.json


def assert_validation_error(response, field, message=None):
    assert response.status_code == 422, response.get_data(as_text=True)
    error = response.json["error"]
    assert error["code"] == "validation_failed"
    assert error["message"]
    assert field in error["fields"], error["fields"]
    if message is not None:
        assert error["fields"][field] == message
    return error["fields"]


class _Html(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def handle_comment(self, data):
        self.tags.append(("!--", {}))

    def handle_decl(self, decl):
        self.tags.append(("!", {}))

    def handle_pi(self, data):
        self.tags.append(("?", {}))


def parse_html(html: str) -> _Html:
    parser = _Html()
    parser.feed(html)
    parser.close()
    return parser


def assert_safe_html(html: str) -> None:
    """Only paragraphs, line breaks and http(s) links with our rel; nothing else."""
    lowered = html.lower()
    for marker in ("<script", "<img", "<svg", "<iframe", "<style", "<math"):
        assert marker not in lowered, html
    for tag, attrs in parse_html(html).tags:
        assert tag in {"p", "br", "a"}, html
        if tag == "a":
            assert set(attrs) == {"href", "rel"}, html
            assert attrs["href"].lower().startswith(("http://", "https://")), html
            assert attrs["rel"] == "nofollow ugc noopener", html
        else:
            assert attrs == {}, html


def visible_text(html: str) -> str:
    return "".join(parse_html(html).text)


# --- accepted ----------------------------------------------------------------------


def test_post_is_202_awaiting_moderation_and_stored_pending(app, client, site):
    response = post(client, headers={"User-Agent": "TestBrowser/1.0"})

    assert response.status_code == 202
    assert response.mimetype == "application/json"
    body = response.json
    assert body == {
        "id": body["id"],
        "status": "pending",
        "message": ACCEPTED,
        # This browser's key to edit or delete it (see tests/api/test_edits.py).
        "edit_token": body["edit_token"],
        "edit_until": body["edit_until"],
    }
    assert isinstance(body["id"], int)
    comment = stored(app, body["id"])
    assert comment.status == CommentStatus.PENDING
    assert comment.author == "Ann Reader"
    assert comment.email == "ann@example.org"
    assert comment.body == "A thoughtful comment."
    assert comment.body_html == "<p>A thoughtful comment.</p>"
    assert comment.parent_id is None
    assert comment.ip == "127.0.0.1"
    assert comment.user_agent == "TestBrowser/1.0"
    # Posted without the embed's form token: held for a look, not spam.
    assert rule_signals(comment) == {"held": {"no_form_token": True}}
    assert comment.thread.key == "/article"


def test_pending_comment_is_not_listed_until_approved(app, client, site):
    comment_id = post(client).json["id"]

    assert listing(client)["count"] == 0

    approve(app, comment_id)
    comments = listing(client)["comments"]
    assert [c["id"] for c in comments] == [comment_id]
    assert comments[0]["author"] == "Ann Reader"
    assert comments[0]["html"] == "<p>A thoughtful comment.</p>"
    # Readers' email addresses never leave the server.
    assert "ann@example.org" not in json.dumps(listing(client))


def test_first_post_creates_the_thread_with_its_url_but_not_its_title(
    app, client, site
):
    """The title a post offers is kept with the comment; the page takes it only
    when a moderator approves (tests/moderation/test_thread_title.py)."""
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Thread.id))) == 0

    first = post(client, thread="/new-page", url=f"{ORIGIN}/new-page", title="New!")
    second = post(client, thread="/new-page", url=f"{ORIGIN}/new-page", title="Mine")

    assert first.status_code == second.status_code == 202
    with app.app_context():
        threads = db.session.scalars(sa.select(Thread)).all()
        assert [(t.key, t.url, t.title) for t in threads] == [
            ("/new-page", f"{ORIGIN}/new-page", None)
        ]
    assert stored(app, first.json["id"]).thread_id == threads[0].id
    assert stored(app, second.json["id"]).thread_id == threads[0].id
    assert stored(app, first.json["id"]).page_title == "New!"
    assert stored(app, second.json["id"]).page_title == "Mine"


def test_title_and_email_are_optional(app, client, site):
    response = post(client, title=None, email=None)

    assert response.status_code == 202
    comment = stored(app, response.json["id"])
    assert comment.email is None
    assert comment.page_title is None


def test_surrounding_whitespace_is_trimmed(app, client, site):
    response = post(client, author="  Ann  ", body="\n  Hello  \n", thread=" /article ")

    assert response.status_code == 202
    comment = stored(app, response.json["id"])
    assert (comment.author, comment.body, comment.thread.key) == (
        "Ann",
        "Hello",
        "/article",
    )


def test_charset_parameter_is_accepted(client, site):
    response = post_raw(
        client,
        json.dumps(comment_payload()),
        content_type="application/json; charset=utf-8",
    )

    assert response.status_code == 202


def test_unknown_fields_are_ignored(app, client, site):
    response = post(
        client,
        status="approved",
        id=999,
        site_id=42,
        ip="203.0.113.9",
        signals={"trusted": True},
        body_html="<script>alert(1)</script>",
    )

    assert response.status_code == 202
    comment = stored(app, response.json["id"])
    assert comment.id != 999
    assert comment.status == CommentStatus.PENDING
    assert comment.ip == "127.0.0.1"
    # Posted without the embed's form token: held for a look, not spam.
    assert rule_signals(comment) == {"held": {"no_form_token": True}}
    assert comment.body_html == "<p>A thoughtful comment.</p>"


def test_user_agent_is_stored_printable_and_bounded(app, client, site):
    response = post(client, headers={"User-Agent": "Bot\x7f/" + "x" * 600})

    assert response.status_code == 202
    user_agent = stored(app, response.json["id"]).user_agent
    assert user_agent.startswith("Bot/x")
    assert len(user_agent) == 512


def test_multiline_body_keeps_newlines_and_tabs(app, client, site):
    response = post(client, body="line one\r\nline\ttwo\n\nparagraph")

    assert response.status_code == 202
    comment = stored(app, response.json["id"])
    assert comment.body == "line one\r\nline\ttwo\n\nparagraph"
    assert comment.body_html == "<p>line one<br>line\ttwo</p><p>paragraph</p>"


# --- 404 / 403 -------------------------------------------------------------------


def test_unknown_site_is_404(app, client, site):
    response = client.post("/api/v1/sites/nosuchsite/comments", json=comment_payload())

    assert response.status_code == 404
    assert response.json["error"]["code"] == "unknown_site"
    assert count_comments(app) == 0


def test_allowed_origin_may_post_and_read_the_answer(client, site):
    response = post(client, headers={"Origin": ORIGIN})

    assert response.status_code == 202
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in response.vary
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_disallowed_origin_may_not_post(app, client, site):
    response = post(client, headers={"Origin": "https://evil.example"})

    assert response.status_code == 403
    assert response.json["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response.headers
    assert count_comments(app) == 0


def test_post_without_origin_is_allowed(client, site):
    response = post(client)

    assert response.status_code == 202
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize(
    "data, content_type, status",
    [
        (json.dumps(comment_payload(body="")), "application/json", 422),
        ("not json", "application/json", 400),
        ("body=hi", "application/x-www-form-urlencoded", 415),
        (json.dumps({"body": "x" * 70_000}), "application/json", 413),
    ],
    ids=["422", "400", "415", "413"],
)
def test_errors_for_an_allowed_origin_are_readable(
    client, site, data, content_type, status
):
    response = post_raw(client, data, content_type, headers={"Origin": ORIGIN})

    assert response.status_code == status
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "error" in response.json


# --- 415 / 400 / 413 -----------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data; boundary=x",
        "text/json",
        None,
    ],
)
def test_non_json_content_type_is_415(app, client, site, content_type):
    response = client.post(
        API,
        data=json.dumps(comment_payload()).encode(),
        headers={"Content-Type": content_type} if content_type else {},
    )

    assert response.status_code == 415
    assert response.json["error"]["code"] == "unsupported_media_type"
    assert count_comments(app) == 0


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"{",
        b'{"body": "unterminated}',
        b"{'body': 'single quotes'}",
        b'{"body": "x",}',
        b'{"body": "caf\xe9"}',  # Latin-1, not UTF-8
        b'{"body": "\xc3\x28"}',  # an invalid UTF-8 sequence
        b"[]",
        json.dumps([comment_payload()]).encode(),
        b"42",
        b"-1.5e300",
        b'"a string"',
        b"null",
        b"true",
        b"[" * 30_000,
        b"[" * 30_000 + b"]" * 30_000,
        b'{"body": ' + b"[" * 30_000 + b"]" * 30_000 + b"}",
    ],
    ids=lambda data: repr(data[:24]) + (f"..({len(data)})" if len(data) > 24 else ""),
)
def test_malformed_json_is_400(app, client, site, data):
    response = post_raw(client, data)

    assert response.status_code == 400
    assert response.json["error"]["code"] == "malformed_json"
    assert response.json["error"]["fields"] == {}
    assert count_comments(app) == 0


def test_payload_over_64_kib_is_413(app, client, site):
    payload = json.dumps(comment_payload(body="x" * (64 * 1024)))

    response = post_raw(client, payload)

    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"
    assert count_comments(app) == 0


def test_payload_just_under_64_kib_is_read(client, site):
    payload = json.dumps(comment_payload(body="x"))
    padding = 64 * 1024 - len(payload) - len(', "pad": ""')
    data = payload[:-1] + ', "pad": "' + "p" * padding + '"}'
    assert len(data.encode()) == 64 * 1024

    assert post_raw(client, data).status_code == 202


# --- 422 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"body": ""}, "body", "Please enter your comment!"),
        ({"body": " \n\t "}, "body", "Please enter your comment!"),
        ({"body": None}, "body", "Please enter your comment!"),
        ({"author": ""}, "author", "Please enter your name here"),
        ({"author": "   "}, "author", "Please enter your name here"),
        ({"author": None}, "author", "Please enter your name here"),
        ({"email": "not-an-email"}, "email", "Please enter a valid email address."),
        ({"email": "ann@"}, "email", "Please enter a valid email address."),
        ({"email": "ann@example"}, "email", None),
        ({"email": "a b@example.org"}, "email", None),
        ({"thread": ""}, "thread", None),
        ({"thread": None}, "thread", None),
        ({"thread": "t" * 513}, "thread", None),
        ({"url": None}, "url", None),
        ({"url": "news.example/article"}, "url", None),
        ({"url": "javascript:alert(1)"}, "url", None),
        ({"url": "ftp://news.example/article"}, "url", None),
        ({"url": "https://"}, "url", None),
        ({"url": "http://[::1"}, "url", None),
        ({"url": "https://news.example/" + "u" * 2030}, "url", None),
        ({"author": "a" * 101}, "author", None),
        ({"email": "e" * 243 + "@example.org"}, "email", None),
        ({"title": "t" * 301}, "title", None),
        ({"captcha_token": "c" * 8193}, "captcha_token", None),
        ({"parent_id": 0}, "parent_id", None),
        ({"parent_id": -1}, "parent_id", None),
        ({"parent_id": 2**31}, "parent_id", None),
        ({"parent_id": 10**40}, "parent_id", None),
        ({"parent_id": "abc"}, "parent_id", None),
        ({"parent_id": "1.5"}, "parent_id", None),
    ],
)
def test_invalid_field_is_422_with_its_message(
    app, client, site, fields, field, message
):
    response = post(client, **fields)

    assert_validation_error(response, field, message)
    assert count_comments(app) == 0


PLAIN_EMAIL = "Please enter a plain email address (without ? & % # quotes or spaces)."
ONE_LINE = "Must be a single line (no line or paragraph separators)."
VISIBLE_NAME = (
    "Please use visible characters only (no invisible or direction-changing ones)."
)


@pytest.mark.parametrize(
    "fields, field, message",
    [
        # A mailto: link would carry these as headers or more recipients.
        ({"email": "ann?subject=hi@example.org"}, "email", PLAIN_EMAIL),
        ({"email": "ann&bcc=x@example.org"}, "email", PLAIN_EMAIL),
        ({"email": "ann%0abcc@example.org"}, "email", PLAIN_EMAIL),
        ({"email": "ann#x@example.org"}, "email", PLAIN_EMAIL),
        ({"email": '"ann"@example.org'}, "email", PLAIN_EMAIL),
        ({"email": "ann\u200b@example.org"}, "email", PLAIN_EMAIL),
        # Bidi controls and zero-width characters make one name pass for another.
        ({"author": "Ann\u202eenoB"}, "author", VISIBLE_NAME),
        ({"author": "Ad\u200bmin"}, "author", VISIBLE_NAME),
        ({"author": "\u2066Ann\u2069"}, "author", VISIBLE_NAME),
        ({"author": "Ann\ufeff"}, "author", VISIBLE_NAME),
        ({"author": "A\u200dnn"}, "author", VISIBLE_NAME),
        # Mail and many readers show these as a line break (a forged line).
        ({"author": "Ann\u2028Subject: hi"}, "author", ONE_LINE),
        ({"author": "Ann\u2029Bob"}, "author", ONE_LINE),
        ({"email": "ann\u2028@example.org"}, "email", ONE_LINE),
    ],
    ids=[
        "email-query",
        "email-ampersand",
        "email-percent",
        "email-hash",
        "email-quotes",
        "email-zero-width",
        "name-rlo",
        "name-zero-width-space",
        "name-isolates",
        "name-bom",
        "name-joiner-between-letters",
        "name-line-separator",
        "name-paragraph-separator",
        "email-line-separator",
    ],
)
def test_what_helps_impersonation_or_mailto_injection_is_422(
    app, client, site, fields, field, message
):
    response = post(client, **fields)

    assert_validation_error(response, field, message)
    assert count_comments(app) == 0


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/news/article",
        "http://news.example/article",  # another scheme is another origin
        "https://news.example:8443/article",
        "https://news.example.evil.example/article",
    ],
)
def test_a_page_url_off_the_sites_origins_is_422(app, client, site, url):
    """The first post to a thread fixes the URL readers are sent back to: it
    must be one of the site's own pages."""
    response = post(client, url=url)

    assert_validation_error(
        response, "url", "The page's URL must be on one of the site's own origins."
    )
    assert count_comments(app) == 0


def test_a_page_url_on_the_sites_origin_passes_in_any_spelling(app, client, site):
    assert post(client, url="HTTPS://News.Example:443/article?x=1#c").status_code == 202


def test_ordinary_names_and_addresses_still_pass(app, client, site):
    for author, email in (
        ("Zoë O'Brien-Smith", "zoe.obrien+news@example.org"),
        ("李小龍", "li_xiaolong@example.cn"),
        ("محمد", "m@example.org"),
    ):
        assert post(client, author=author, email=email).status_code == 202


def test_every_problem_is_reported_at_once(client, site):
    response = post_raw(client, b"{}")

    fields = assert_validation_error(response, "body", "Please enter your comment!")
    assert fields["author"] == "Please enter your name here"
    assert {"thread", "url"} <= set(fields)


@pytest.mark.parametrize(
    "field, limit",
    [("author", 100), ("email", 254), ("title", 300), ("thread", 512)],
)
def test_fields_at_their_length_limit_are_accepted(app, client, site, field, limit):
    value = "a" * limit
    if field == "email":
        value = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 61
        assert len(value) == limit

    response = post(client, **{field: value})

    assert response.status_code == 202, response.json


def test_body_at_the_site_limit_is_accepted_and_one_over_refused(app, client):
    with app.app_context():
        make_site(max_length=50)

    at_limit = post(client, body="x" * 50)
    over = post(client, body="x" * 51)

    assert at_limit.status_code == 202
    assert stored(app, at_limit.json["id"]).body == "x" * 50
    assert_validation_error(
        over, "body", "Please keep your comment under 50 characters."
    )


def test_default_limit_counts_characters_not_bytes(client, site):
    assert post(client, body="😀" * 5000).status_code == 202
    assert_validation_error(post(client, body="😀" * 5001), "body")


def test_whitespace_around_the_body_does_not_count_towards_the_limit(app, client):
    with app.app_context():
        make_site(max_length=10)

    assert post(client, body="\n  " + "x" * 10 + "  \n").status_code == 202


def test_site_requiring_email_refuses_a_comment_without_one(app, client):
    with app.app_context():
        make_site(require_email=True)

    assert_validation_error(
        post(client, email=None), "email", "Please enter your email address."
    )
    assert_validation_error(
        post(client, email=""), "email", "Please enter your email address."
    )
    assert_validation_error(post(client, email="nope"), "email")
    assert post(client, email="ann@example.org").status_code == 202


NOT_STRINGS = [42, 1.5, True, False, [], ["text"], {}, {"text": "x"}]
STRING_FIELDS = [
    "thread",
    "url",
    "title",
    "author",
    "email",
    "body",
    "captcha_token",
    "website",
]


@pytest.mark.parametrize("field", STRING_FIELDS)
def test_non_string_field_is_422(app, client, site, field):
    for value in NOT_STRINGS:
        response = post(client, **{field: value})

        assert_validation_error(response, field, "Must be a string.")
    assert count_comments(app) == 0


@pytest.mark.parametrize(
    "value", [True, False, 1.5, [1], {"id": 1}], ids=lambda v: repr(v)
)
def test_non_integer_parent_id_is_422(app, client, site, value):
    assert_validation_error(post(client, parent_id=value), "parent_id")


# --- replies -----------------------------------------------------------------------


def test_reply_to_an_approved_comment_is_accepted(app, client, site):
    parent_id = add_comment(app)

    response = post(client, parent_id=parent_id)

    assert response.status_code == 202
    assert stored(app, response.json["id"]).parent_id == parent_id
    approve(app, response.json["id"])
    comments = listing(client)["comments"]
    assert [(c["id"], c["parent_id"]) for c in comments] == [
        (parent_id, None),
        (response.json["id"], parent_id),
    ]


def test_parent_id_may_be_a_numeric_string(app, client, site):
    parent_id = add_comment(app)

    response = post(client, parent_id=str(parent_id))

    assert response.status_code == 202
    assert stored(app, response.json["id"]).parent_id == parent_id


def test_reply_to_an_unknown_comment_is_422(app, client, site):
    assert_validation_error(
        post(client, parent_id=999_999),
        "parent_id",
        "The comment you reply to does not exist.",
    )
    assert count_comments(app) == 0


@pytest.mark.parametrize(
    "status",
    [
        CommentStatus.PENDING,
        CommentStatus.REJECTED,
        CommentStatus.SPAM,
        CommentStatus.DELETED,
    ],
)
def test_reply_to_an_unpublished_comment_is_422(app, client, site, status):
    parent_id = add_comment(app, status=status)

    assert_validation_error(
        post(client, parent_id=parent_id),
        "parent_id",
        "The comment you reply to is not published.",
    )
    assert count_comments(app) == 1


def test_reply_to_a_comment_in_another_thread_is_422(app, client, site):
    parent_id = add_comment(app, thread="/another-article")

    assert_validation_error(
        post(client, parent_id=parent_id),
        "parent_id",
        "The comment you reply to belongs to another page.",
    )
    assert count_comments(app) == 1


def test_reply_to_a_comment_on_another_site_is_422(app, client, site):
    with app.app_context():
        make_site("other", "Other Site", allowed_origins=["https://other.example"])
    parent_id = add_comment(app, site_slug="other")  # the same thread key

    assert_validation_error(
        post(client, parent_id=parent_id),
        "parent_id",
        "The comment you reply to does not exist.",
    )
    assert count_comments(app) == 1


def test_refused_reply_to_a_new_thread_creates_no_thread(app, client, site):
    parent_id = add_comment(app, thread="/another-article")

    post(client, thread="/brand-new", parent_id=parent_id)

    with app.app_context():
        keys = db.session.scalars(sa.select(Thread.key)).all()
    assert keys == ["/another-article"]


# --- the honeypot --------------------------------------------------------------------


@pytest.mark.parametrize("website", ["https://spam.example", "x", "\x00"])
def test_filled_honeypot_gets_the_same_answer_but_is_stored_as_spam(
    app, client, site, website
):
    response = post(client, website=website)

    assert response.status_code == 202
    assert response.json == {
        "id": response.json["id"],
        "status": "pending",
        "message": ACCEPTED,
        "edit_token": response.json["edit_token"],
        "edit_until": response.json["edit_until"],
    }
    comment = stored(app, response.json["id"])
    assert comment.status == CommentStatus.SPAM
    assert comment.signals["honeypot"] is True


@pytest.mark.parametrize("website", ["", "   "])
def test_empty_honeypot_is_a_normal_comment(app, client, site, website):
    response = post(client, website=website)

    assert response.status_code == 202
    comment = stored(app, response.json["id"])
    assert comment.status == CommentStatus.PENDING
    # Posted without the embed's form token: held for a look, not spam.
    assert rule_signals(comment) == {"held": {"no_form_token": True}}


# --- text that is not text -----------------------------------------------------------


@pytest.mark.parametrize(
    "field", ["thread", "url", "title", "author", "email", "body", "captcha_token"]
)
def test_control_characters_are_422(app, client, site, field):
    valid = {
        "thread": "/article",
        "url": f"{ORIGIN}/article",
        "title": "Title",
        "author": "Ann",
        "email": "ann@example.org",
        "body": "Hello",
        "captcha_token": "token",
    }[field]
    for bad in ("\x00", "\x07", "\x1b", "\x7f", "\x85"):
        value = valid[:2] + bad + valid[2:]

        assert_validation_error(post(client, **{field: value}), field)
    assert count_comments(app) == 0


@pytest.mark.parametrize(
    "field", ["thread", "title", "author", "email", "body", "captcha_token"]
)
def test_lone_surrogates_are_422(app, client, site, field):
    payload = json.dumps(comment_payload(captcha_token="token"))
    valid = json.dumps(comment_payload(captcha_token="token")[field])
    assert payload.count(valid) == 1
    for surrogate in ("\\ud800", "\\udfff", "\\udc00\\ud800"):
        raw = payload.replace(valid, valid[:-1] + surrogate + '"')

        assert_validation_error(post_raw(client, raw), field)
    assert count_comments(app) == 0


def test_surrogates_encoded_as_utf8_bytes_are_refused(app, client, site):
    raw = json.dumps(comment_payload(body="BODY")).encode()
    raw = raw.replace(b"BODY", b"bad \xed\xa0\x80 text")

    response = post_raw(client, raw)

    assert response.status_code in (400, 422)
    assert count_comments(app) == 0


def test_escaped_surrogate_pair_is_an_ordinary_character(app, client, site):
    raw = json.dumps(comment_payload(body="BODY")).replace("BODY", "\\ud83d\\ude00")

    response = post_raw(client, raw)

    assert response.status_code == 202
    assert stored(app, response.json["id"]).body == "😀"


# --- XSS ---------------------------------------------------------------------------

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "javascript:alert(1)",
    '<a href="javascript:alert(1)">click</a>',
    "<iframe src=//evil.example></iframe>",
    "'';!--\"<XSS>=&{()}",
    '<style>@import "//evil.example/x.css";</style>',
    'https://example.com/"onmouseover="alert(1)',
    "https://example.com/<script>alert(1)</script>",
    "https://example.com/'onmouseover='alert(1)'",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "<!--<script>alert(1)//-->",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<scr<script>ipt>alert(1)</script>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "</p><p onclick=alert(1)>",
    "{{constructor.constructor('alert(1)')()}}",
]


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_in_body_is_served_as_inert_text(app, client, site, payload):
    response = post(client, body=payload)
    assert response.status_code == 202
    approve(app, response.json["id"])

    (comment,) = listing(client)["comments"]

    assert_safe_html(comment["html"])
    # What the reader sees is exactly what the author typed.
    assert visible_text(comment["html"]) == payload
    assert stored(app, response.json["id"]).body == payload


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_in_author_title_and_thread_is_stored_and_served_as_plain_text(
    app, client, site, payload
):
    response = post(
        client,
        author=payload[:100],
        title=payload,
        thread=payload,
        url=f"{ORIGIN}/article?ref={payload}",
        captcha_token=payload,
    )
    assert response.status_code == 202, response.json
    approve(app, response.json["id"])

    served = listing(client, thread=payload)

    assert served["thread"] == payload
    (comment,) = served["comments"]
    assert comment["author"] == payload[:100]  # a JSON string, not HTML
    assert comment["html"] == "<p>A thoughtful comment.</p>"
    row = stored(app, response.json["id"])
    assert (row.author, row.thread.key, row.page_title) == (
        payload[:100],
        payload,
        payload,
    )


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_in_email_is_refused_or_never_served(app, client, site, payload):
    for email in (payload, f"{payload}@example.org", f'"{payload}"@example.org'):
        response = post(client, email=email[:254])

        assert response.status_code in (202, 422)
        if response.status_code == 202:
            approve(app, response.json["id"])
    served = listing(client)
    assert "@example.org" not in json.dumps(served)
    assert all("email" not in comment for comment in served["comments"])


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JAVASCRIPT://news.example/%0aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/x",
    ],
)
def test_non_http_page_url_is_refused(app, client, site, url):
    assert_validation_error(post(client, url=url), "url")
    assert count_comments(app) == 0


def test_listing_is_json_not_html(app, client, site):
    response = post(client, author="<script>alert(1)</script>", body="<b>hi</b>")
    approve(app, response.json["id"])

    served = client.get(API, query_string={"thread": "/article"})

    assert served.mimetype == "application/json"
    assert served.json["comments"][0]["author"] == "<script>alert(1)</script>"
    assert served.json["comments"][0]["html"] == "<p>&lt;b&gt;hi&lt;/b&gt;</p>"


# --- Unicode -----------------------------------------------------------------------

UNICODE_CASES = {
    "emoji": ("Zoë 👩‍💻", "Great post 🎉👍🏽 🇫🇷 👨‍👩‍👧‍👦 ❤️"),
    "arabic": ("مريم الخطيب", "مرحبا بالعالم! هذا تعليق رائع ١٢٣."),
    "hebrew": ("דוד כהן", "שלום עולם, \u200fזו תגובה (עם סוגריים)."),
    # Bidi controls are refused in names (impersonation) but kept in bodies.
    "mixed-direction": ("Ann Lee", "English then עברית \u202eevil\u202c العربية."),
    "combining": (
        "Zoe\u0308 Ame\u0301lie",
        "cafe\u0301 n\u0303 a\u0300\u0301\u0302\u0303",
    ),
    "zalgo": ("Z\u0351\u0352\u0357\u0358a", "t\u0336\u0337e\u0338x\u0489t"),
    "cjk": ("山田太郎", "日本語のコメントです。한국어 댓글。"),
    "astral": ("𝔄𝔫𝔫", "𝕳𝖊𝖑𝖑𝖔 𓀀 \U0010fffd"),
}


@pytest.mark.parametrize("author, body", UNICODE_CASES.values(), ids=UNICODE_CASES)
def test_unicode_round_trips_exactly(app, client, site, author, body):
    thread = f"/مقال/{author}"
    title = f"{body[:20]} — {author}"

    response = post(client, author=author, body=body, thread=thread, title=title)
    assert response.status_code == 202, response.json
    approve(app, response.json["id"])

    served = listing(client, thread=thread)
    (comment,) = served["comments"]

    assert served["thread"] == thread
    assert comment["author"] == author  # no normalisation: combining marks kept
    assert visible_text(comment["html"]) == body
    row = stored(app, response.json["id"])
    assert (row.author, row.body, row.thread.key, row.page_title) == (
        author,
        body,
        thread,
        title,
    )


def test_raw_utf8_bytes_round_trip(app, client, site):
    body = "naïve café — 😀 مرحبا"
    raw = json.dumps(comment_payload(body=body), ensure_ascii=False).encode("utf-8")

    response = post_raw(client, raw)
    assert response.status_code == 202
    approve(app, response.json["id"])

    served = client.get(API, query_string={"thread": "/article"})
    assert served.json["comments"][0]["html"] == f"<p>{body}</p>"
    assert body.encode("utf-8") in served.get_data()
