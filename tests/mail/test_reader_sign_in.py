"""Sign-in by e-mail: a one-time link through the real mail worker and a real
SMTP server, its page (a GET never signs in), the way back to the article
with the session in the fragment, and everything it refuses."""

from urllib.parse import unquote, urlsplit

import pytest
import sqlalchemy as sa
from factories import ORIGIN, comment_payload, make_site
from timing import clear_of_a_minute_boundary

from commentsvc import accounts
from commentsvc.extensions import db
from commentsvc.models import Account, Comment, ReaderSession, Site

from .conftest import PUBLIC_URL, SENDER, click_button, link, path_of, run_worker

API = "/api/v1/sites/news"
PAGE = f"{ORIGIN}/2026/12/an-article"


@pytest.fixture
def email_app(mail_app):
    with mail_app.app_context():
        site = db.session.scalars(sa.select(Site).where(Site.slug == "news")).one()
        accounts.change_settings(site.id, "news", email_sign_in=True)
    return mail_app


def ask(client, ip="192.0.2.1", **fields):
    body = {"email": "Reader@Example.org", "return_url": PAGE, **fields}
    return client.post(
        f"{API}/auth/email",
        json=body,
        headers={"Origin": ORIGIN},
        environ_base={"REMOTE_ADDR": ip},
    )


def sign_in_link(app, smtp) -> str:
    run_worker(app)
    message = smtp.messages[-1]
    assert message["To"] == "reader@example.org"
    assert message["Subject"] == "[Example News] Your link to sign in"
    return link(message, "Sign in")


def session_from(location: str) -> str:
    page, _, fragment = location.partition("#")
    assert page == PAGE
    name, _, token = fragment.partition("=")
    assert name == accounts.FRAGMENT
    return unquote(token)


def test_a_link_signs_the_reader_in_once_and_they_post_as_themselves(email_app, smtp):
    client = email_app.test_client()
    response = ask(client, name="Rea Der")
    assert response.status_code == 202
    assert "Check your mailbox" in response.json["message"]
    url = sign_in_link(email_app, smtp)

    page = client.get(path_of(url))
    assert page.status_code == 200
    assert "reader@example.org" in page.get_data(as_text=True)
    with email_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Account.id))) == 0

    done = click_button(client, url)
    assert done.status_code == 303
    token = session_from(done.headers["Location"])

    me = client.get(f"{API}/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json["account"]["name"] == "Rea Der"
    assert me.json["account"]["email"] == "reader@example.org"
    assert me.json["account"]["provider"] == "email"

    posted = client.post(
        f"{API}/comments",
        json=comment_payload(author=None, email=None),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert posted.status_code == 202, posted.json
    with email_app.app_context():
        comment = db.session.scalars(sa.select(Comment)).one()
        assert (comment.author, comment.email) == ("Rea Der", "reader@example.org")

    again = client.get(path_of(url))
    assert again.status_code == 410
    assert "used already" in again.get_data(as_text=True)


def test_the_same_answer_for_every_address_and_a_cap_per_address(email_app, smtp):
    client = email_app.test_client()
    # From many networks (each has its own rate limit, below).
    tries = range(accounts.email.PER_ADDRESS + 2)
    answers = {ask(client, ip=f"198.51.100.{n}").get_data() for n in tries}
    run_worker(email_app)

    assert len(answers) == 1
    assert len(smtp.messages) == accounts.email.PER_ADDRESS


def test_one_network_asking_too_often_is_rate_limited(make_app, smtp):
    app = make_app(
        MAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
        MAIL_FROM=SENDER,
        PUBLIC_URL=PUBLIC_URL,
        RATELIMIT_SIGN_IN="5/minute;50/day",  # the default
    )
    with app.app_context():
        site = make_site()
        accounts.change_settings(site.id, "news", email_sign_in=True)
    client = app.test_client()
    clear_of_a_minute_boundary()
    codes = [ask(client, email=f"r{n}@example.org").status_code for n in range(6)]
    assert codes == [202] * 5 + [429]


def test_a_return_url_off_the_site_is_refused(email_app):
    client = email_app.test_client()
    for bad in ("https://evil.example/x", "javascript:alert(1)", 42, None):
        response = ask(client, return_url=bad)
        assert response.status_code == 422
        assert "return_url" in response.json["error"]["fields"]


def test_bad_addresses_and_names_are_refused_by_field(email_app):
    client = email_app.test_client()
    response = ask(client, email="not an address", name="=?utf-8?q?x?=")
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"email", "name"}


def test_a_site_without_e_mail_sign_in_says_so(mail_app):
    response = ask(mail_app.test_client())
    assert response.status_code == 404
    assert response.json["error"]["code"] == "sign_in_unavailable"


def test_a_tampered_or_other_site_link_signs_no_one_in(email_app, smtp):
    client = email_app.test_client()
    ask(client)
    url = sign_in_link(email_app, smtp)
    tampered = url[:-3] + ("aaa" if not url.endswith("aaa") else "bbb")
    assert client.get(path_of(tampered)).status_code == 400
    other = path_of(url).replace("/auth/news/", "/auth/blog/")
    assert client.get(other).status_code == 400
    assert click_button(client, url).status_code == 303


def test_an_expired_link_says_so(email_app, smtp):
    client = email_app.test_client()
    ask(client)
    url = sign_in_link(email_app, smtp)
    with email_app.app_context():
        db.session.execute(
            sa.update(accounts.email.SignInLink).values(
                expires_at=accounts.email.utcnow() - accounts.email.LIFETIME
            )
        )
        db.session.commit()

    page = client.get(path_of(url))
    assert page.status_code == 410
    assert "expired" in page.get_data(as_text=True)


def test_the_link_is_on_the_public_url(email_app, smtp):
    ask(email_app.test_client())
    url = sign_in_link(email_app, smtp)
    assert urlsplit(url).netloc == urlsplit(PUBLIC_URL).netloc


def test_of_two_clicks_that_both_passed_the_check_only_one_signs_in(email_app, smtp):
    """Two tabs (or a double click): both read the link unused; the second to
    write finds it used."""
    ask(email_app.test_client())
    token = urlsplit(sign_in_link(email_app, smtp)).path.rsplit("/", 1)[1]
    with email_app.app_context():
        site = db.session.scalars(sa.select(Site).where(Site.slug == "news")).one()
        first = accounts.email.check(site, token)
        second = accounts.email.check(site, token)
        accounts.email.use(site, first)
        with pytest.raises(accounts.email.LinkUnusable, match="used"):
            accounts.email.use(site, second)
        assert db.session.scalar(sa.select(sa.func.count(ReaderSession.id))) == 1


def test_the_access_log_never_holds_a_link_s_token(email_app, smtp, log_lines):
    client = email_app.test_client()
    ask(client)
    url = sign_in_link(email_app, smtp)
    token = urlsplit(url).path.rsplit("/", 1)[1]

    assert click_button(client, url).status_code == 303

    paths = [line.get("path", "") for line in log_lines()]
    assert "/auth/news/email/[token]" in paths
    assert not [line for line in log_lines() if token in str(line)]
