"""``sites sso-secret SLUG`` (the secret printed once, rotation refuses old
tokens) and ``sites sign-in SLUG ...`` (settings checked, audited)."""

import time

import jwt
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from factories import comment_payload, make_site

from commentsvc import accounts
from commentsvc.extensions import db
from commentsvc.models import AuditEntry

API = "/api/v1/sites/news/comments"


@pytest.fixture
def site(app):
    with app.app_context():
        make_site(captcha_provider="dev")


def invoke(runner, *args, input=None):
    return runner.invoke(args=list(args), input=input)


def signed(secret, **claims):
    now = int(time.time())
    body = {"sub": "u-1", "name": "Sam", "aud": "news", "iat": now, "exp": now + 300}
    return jwt.encode({**body, **claims}, secret, algorithm="HS256")


def post(client, sso_token, body="A comment from a subscriber."):
    payload = comment_payload(author=None, email=None, body=body)
    return client.post(API, json={**payload, "sso_token": sso_token})


def settings(app):
    with app.app_context():
        return accounts.sign_in_settings(
            db.session.scalar(sa.text("SELECT id FROM sites WHERE slug = 'news'")),
            "news",
        )


def test_sso_secret_prints_only_the_secret_and_tokens_signed_with_it_post(
    app, runner, client, site
):
    result = invoke(runner, "sites", "sso-secret", "news")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and len(lines[0]) >= 43
    assert "shown once" in result.stderr
    assert settings(app).sso_secret == lines[0]
    assert post(client, signed(lines[0])).status_code == 202


def test_rotation_refuses_tokens_signed_with_the_old_secret(runner, client, site):
    old = invoke(runner, "sites", "sso-secret", "news").stdout.strip()
    new = invoke(runner, "sites", "sso-secret", "news").stdout.strip()

    assert old != new
    refused = post(client, signed(old))
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "sso_invalid"
    assert post(client, signed(new), body="Again, signed anew.").status_code == 202


def test_the_secret_is_audited_without_its_value(app, runner, site):
    secret = invoke(runner, "sites", "sso-secret", "news").stdout.strip()
    invoke(runner, "sites", "sso-secret", "news")

    with app.app_context():
        entries = db.session.scalars(
            sa.select(AuditEntry).order_by(AuditEntry.id)
        ).all()
        kinds = [e.kind for e in entries]
        assert kinds[-2:] == ["site.sso_secret_created", "site.sso_secret_rotated"]
        assert entries[-1].changes == {"sso_secret": "changed"}
        assert all(secret not in str(e.changes) for e in entries)


def test_sso_secret_of_an_unknown_site(runner, site):
    result = invoke(runner, "sites", "sso-secret", "nope")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert "no site 'nope'" in result.stderr


def test_sign_in_changes_the_settings_and_audits_them(app, runner, site):
    result = invoke(
        runner,
        "sites", "sign-in", "news", "--no-guests", "--email", "--no-skip-captcha",
        "--new-account-min-approved", "5", "--rejected-hold-ratio", "0.5",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    now = settings(app)
    assert (now.guests_allowed, now.email_sign_in, now.sso_skip_captcha) == (
        False,
        True,
        False,
    )
    assert (now.new_account_min_approved, now.rejected_hold_ratio) == (5, 0.5)
    with app.app_context():
        entry = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.kind == "site.sign_in")
        ).one()
        assert entry.changes["guests_allowed"] == [True, False]
        assert entry.changes["new_account_min_approved"] == [2, 5]


@pytest.mark.parametrize(
    "args, option",
    [
        (["--rejected-hold-ratio", "1.5"], "--rejected-hold-ratio"),
        (["--rejected-hold-ratio", "-0.1"], "--rejected-hold-ratio"),
        (["--new-account-min-approved", "101"], "--new-account-min-approved"),
        (["--new-account-min-approved", "-1"], "--new-account-min-approved"),
        (["--sso-algorithm", "RS256"], "--sso-public-key-file"),
    ],
)
def test_sign_in_refuses_values_out_of_range(app, runner, site, args, option):
    result = invoke(runner, "sites", "sign-in", "news", *args)

    assert result.exit_code == 1
    assert f"error: {option}:" in result.stderr
    assert settings(app).rejected_hold_ratio == 0.3
    assert settings(app).sso_algorithm == "HS256"


def test_sign_in_refuses_an_unknown_algorithm(runner, site):
    result = invoke(runner, "sites", "sign-in", "news", "--sso-algorithm", "none")

    assert result.exit_code == 2


def _pem(key, private=False) -> str:
    if private:
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
    return (
        key.public_key()
        .public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        .decode()
    )


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_a_public_key_checks_the_site_s_tokens(
    app, runner, client, site, tmp_path, algorithm
):
    key = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if algorithm == "RS256"
        else ec.generate_private_key(ec.SECP256R1())
    )
    path = tmp_path / "public.pem"
    path.write_text(_pem(key))

    result = invoke(
        runner, "sites", "sign-in", "news",
        "--sso-algorithm", algorithm, "--sso-public-key-file", str(path),
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    now = int(time.time())
    claims = {"sub": "u-9", "name": "Kay", "aud": "news", "exp": now + 300}
    token = jwt.encode(claims, _pem(key, private=True), algorithm=algorithm)
    assert post(client, token).status_code == 202
    forged = jwt.encode({**claims, "sub": "u-10"}, "a-shared-secret-of-32-bytes-!!!!")
    assert post(client, forged, body="Forged.").json["error"]["code"] == "sso_invalid"


@pytest.mark.parametrize(
    "content, said",
    [
        ("not a key", "PEM"),
        ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "not a"),
        ("private", "private key"),
        ("ec", "not a public key RS256"),
    ],
)
def test_sign_in_refuses_a_key_pyjwt_cannot_use(
    app, runner, site, tmp_path, content, said
):
    if content == "private":
        content = _pem(rsa.generate_private_key(65537, 2048), private=True)
    elif content == "ec":
        content = _pem(ec.generate_private_key(ec.SECP256R1()))
    path = tmp_path / "key.pem"
    path.write_text(content)

    result = invoke(
        runner, "sites", "sign-in", "news",
        "--sso-algorithm", "RS256", "--sso-public-key-file", str(path),
    )  # fmt: skip

    assert result.exit_code == 1
    assert "--sso-public-key-file" in result.stderr and said in result.stderr
    assert settings(app).sso_public_key is None
