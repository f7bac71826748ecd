"""The ``flask --app wsgi ...`` commands: sites, moderators and the demo."""

import re

import pytest
import sqlalchemy as sa

from commentsvc import accounts as reader_accounts
from commentsvc.extensions import db
from commentsvc.models import CaptchaProvider, Moderator, Role, Site
from commentsvc.moderation.accounts import verify_password

SECRET = "6Lc-very-secret-captcha-key"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def invoke(runner):
    def invoke(*args, input=None):
        return runner.invoke(args=list(args), input=input)

    return invoke


@pytest.fixture
def site_row(app):
    """Read a site fresh from the database (what the command left behind)."""

    def read(slug):
        with app.app_context():
            return db.session.scalar(sa.select(Site).where(Site.slug == slug))

    return read


@pytest.fixture
def moderator_row(app):
    def read(username):
        with app.app_context():
            moderator = db.session.scalar(
                sa.select(Moderator).where(Moderator.username == username)
            )
            if moderator is not None:
                moderator.site_slugs = sorted(s.slug for s in moderator.sites)
            return moderator

    return read


@pytest.fixture
def password_works(app):
    """True if *password* logs *username* in."""

    def check(username, password):
        with app.app_context():
            moderator = db.session.scalar(
                sa.select(Moderator).where(Moderator.username == username)
            )
            return verify_password(moderator, password)

    return check


def create_news(invoke, *extra, input=None):
    result = invoke(
        "sites", "create", "news", "--name", "Example News",
        "--origin", "https://news.example", *extra, input=input,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result


# --- sites create ---------------------------------------------------------------


def test_create_site_with_every_option(invoke, site_row):
    result = invoke(
        "sites", "create", "news", "--name", "Example News",
        "--origin", "HTTPS://News.Example:443/",
        "--origin", "http://localhost:8000",
        "--captcha-provider", "recaptcha_v2",
        "--captcha-site-key", "6Lc-public-site-key",
        "--captcha-secret-stdin",
        "--require-email",
        "--max-length", "2000",
        input=SECRET + "\n",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "created site news" in result.output
    assert SECRET not in result.output
    site = site_row("news")
    assert site.name == "Example News"
    assert site.allowed_origins == ["https://news.example", "http://localhost:8000"]
    assert site.captcha_provider == CaptchaProvider.RECAPTCHA_V2
    assert site.captcha_site_key == "6Lc-public-site-key"
    assert site.captcha_secret == SECRET
    assert site.require_email is True
    assert site.max_length == 2000


def test_create_site_defaults(invoke, site_row):
    create_news(invoke)
    site = site_row("news")
    assert site.captcha_provider == CaptchaProvider.NONE
    assert site.captcha_secret is None
    assert site.require_email is False


def test_duplicate_slug_is_refused(invoke, site_row):
    create_news(invoke)
    result = invoke("sites", "create", "news", "--name", "Another")
    assert result.exit_code != 0
    assert "'news' is taken" in result.output
    assert site_row("news").name == "Example News"


@pytest.mark.parametrize("slug", ["Bad Slug", "UPPER", "_under", "a/b", "x" * 65, ""])
def test_bad_slug_is_refused(invoke, app, slug):
    result = invoke("sites", "create", slug, "--name", "Bad")
    assert result.exit_code != 0
    assert "error: SLUG: " in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Site.id))) == 0


@pytest.mark.parametrize(
    "origin", ["news.example", "ftp://news.example", "https://news.example/path"]
)
def test_create_with_a_bad_origin_is_refused(invoke, site_row, origin):
    result = invoke("sites", "create", "news", "--name", "N", "--origin", origin)
    assert result.exit_code != 0
    assert "is not an origin" in result.output
    assert site_row("news") is None


def test_unknown_captcha_provider_is_refused(invoke, site_row):
    result = invoke(
        "sites", "create", "news", "--name", "N", "--captcha-provider", "nocaptcha"
    )
    assert result.exit_code != 0
    assert "nocaptcha" in result.output
    assert site_row("news") is None


def test_a_real_provider_without_its_keys_is_refused_naming_the_options(
    invoke, site_row
):
    # `--captcha-secret-stdin <<< "$RECAPTCHA_SECRET"` with the variable unset
    result = invoke(
        "sites", "create", "news", "--name", "N", "--captcha-provider",
        "recaptcha_v3", "--captcha-site-key", "6Lc-key", "--captcha-secret-stdin",
        input="\n",
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: --captcha-provider recaptcha_v3 needs --captcha-secret-stdin (it "
        "read an empty line); without keys, use --captcha-provider none or dev"
    )
    assert site_row("news") is None
    bare = invoke(
        "sites", "create", "news", "--name", "N", "--captcha-provider", "hcaptcha"
    )
    assert bare.exit_code == 1
    assert "needs --captcha-site-key KEY and --captcha-secret-stdin" in bare.output
    assert site_row("news") is None
    dev = invoke("sites", "create", "blog", "--name", "B", "--captcha-provider", "dev")
    assert dev.exit_code == 0, dev.output


def test_update_to_a_real_provider_needs_the_keys_it_lacks(invoke, site_row):
    create_news(invoke)
    refused = invoke("sites", "update", "news", "--captcha-provider", "turnstile")
    assert refused.exit_code == 1
    assert "--captcha-provider turnstile needs --captcha-site-key KEY" in (
        refused.output
    )
    assert site_row("news").captcha_provider == CaptchaProvider.NONE
    keyed = invoke(
        "sites", "update", "news", "--captcha-provider", "turnstile",
        "--captcha-site-key", "0x4AAA", "--captcha-secret-stdin", input=SECRET,
    )  # fmt: skip
    assert keyed.exit_code == 0, keyed.output
    # The keys stored stay: changing only the site key needs no secret again.
    again = invoke("sites", "update", "news", "--captcha-site-key", "0x4BBB")
    assert again.exit_code == 0, again.output
    assert site_row("news").captcha_secret == SECRET


# --- sites list -----------------------------------------------------------------


def test_list_never_prints_the_secret(invoke):
    create_news(
        invoke, "--captcha-provider", "hcaptcha", "--captcha-site-key", "10000000",
        "--captcha-secret-stdin", input=SECRET,
    )  # fmt: skip
    invoke("sites", "create", "blog", "--name", "A Blog")

    result = invoke("sites", "list")

    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("blog\tA Blog\tcaptcha=none (secret not set)")
    assert lines[1].startswith("news\tExample News\tcaptcha=hcaptcha (secret set)")
    assert "origins=https://news.example" in lines[1]


# --- sites update ---------------------------------------------------------------


def test_update_adds_and_removes_origins(invoke, site_row):
    create_news(invoke, "--origin", "https://www.news.example")

    result = invoke(
        "sites", "update", "news",
        "--add-origin", "https://amp.news.example",
        "--remove-origin", "HTTPS://WWW.news.example",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "updated site news" in result.output
    assert site_row("news").allowed_origins == [
        "https://news.example",
        "https://amp.news.example",
    ]


def test_update_origin_replaces_them_all(invoke, site_row):
    create_news(invoke, "--origin", "https://www.news.example")
    result = invoke("sites", "update", "news", "--origin", "https://new.example")
    assert result.exit_code == 0, result.output
    assert site_row("news").allowed_origins == ["https://new.example"]


def test_update_settings(invoke, site_row):
    create_news(invoke, "--require-email")
    result = invoke(
        "sites", "update", "news", "--no-require-email", "--name", "Renamed",
        "--captcha-provider", "turnstile", "--captcha-site-key", "0x4AAA",
        "--captcha-secret-stdin", input=SECRET + "\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    site = site_row("news")
    assert site.require_email is False
    assert site.name == "Renamed"
    assert site.captcha_provider == CaptchaProvider.TURNSTILE
    assert site.captcha_site_key == "0x4AAA"
    assert site.captcha_secret == SECRET
    assert site.allowed_origins == ["https://news.example"]  # untouched


def test_update_reader_settings(invoke, site_row):
    create_news(invoke)
    site = site_row("news")
    defaults = (site.report_threshold, site.edit_window_seconds)
    assert defaults + (site.default_sort, site.max_reply_depth) == (3, 300, "oldest", 4)
    result = invoke(
        "sites", "update", "news", "--report-threshold", "5", "--edit-window", "0",
        "--default-sort", "newest", "--max-reply-depth", "2",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    site = site_row("news")
    assert (site.report_threshold, site.edit_window_seconds) == (5, 0)
    assert (site.default_sort, site.max_reply_depth) == ("newest", 2)
    refused = invoke("sites", "update", "news", "--max-reply-depth", "9")
    assert refused.exit_code != 0
    assert "error: --max-reply-depth: A number from 1 to 8." in refused.output
    assert site_row("news").max_reply_depth == 2


@pytest.mark.parametrize("option", ["--origin", "--add-origin", "--remove-origin"])
def test_update_with_a_bad_origin_changes_nothing(invoke, site_row, option):
    create_news(invoke)
    result = invoke("sites", "update", "news", "--name", "Renamed", option, "nope")
    assert result.exit_code != 0
    assert "'nope' is not an origin" in result.output
    site = site_row("news")
    assert site.allowed_origins == ["https://news.example"]
    assert site.name == "Example News"


def test_update_with_a_bad_setting_changes_nothing(invoke, site_row):
    create_news(invoke)
    result = invoke("sites", "update", "news", "--name", "Renamed", "--max-length", "0")
    assert result.exit_code != 0
    assert "error: --max-length: " in result.output
    assert site_row("news").name == "Example News"


@pytest.mark.parametrize(
    "options",
    [
        ["--name", "X"],
        ["--add-origin", "https://a.example"],
        ["--origin", "https://a.example"],
    ],
)
def test_update_unknown_site_fails(invoke, options):
    result = invoke("sites", "update", "nope", *options)
    assert result.exit_code != 0
    assert "there is no site 'nope'" in result.output


# --- moderators create ----------------------------------------------------------


def test_create_moderator_stores_an_argon2_hash(invoke, moderator_row, password_works):
    result = invoke(
        "moderators", "create", "alice", "--password-stdin", input=PASSWORD + "\n"
    )

    assert result.exit_code == 0, result.output
    assert "created moderator alice" in result.output
    assert PASSWORD not in result.output
    alice = moderator_row("alice")
    assert alice.role == Role.MODERATOR
    assert alice.site_slugs == []
    assert alice.password_hash.startswith("$argon2")
    assert PASSWORD not in alice.password_hash
    assert password_works("alice", PASSWORD)
    assert not password_works("alice", PASSWORD + "!")


def test_create_moderator_asks_for_the_password(invoke, password_works):
    result = invoke("moderators", "create", "alice", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # the prompt hides what is typed
    assert password_works("alice", PASSWORD)


def test_mistyped_password_confirmation_is_asked_again(invoke, password_works):
    typed = f"{PASSWORD}\ntypo\n{PASSWORD}\n{PASSWORD}\n"
    result = invoke("moderators", "create", "alice", input=typed)
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert password_works("alice", PASSWORD)


def test_too_short_password_is_refused(invoke, moderator_row):
    result = invoke(
        "moderators", "create", "alice", "--password-stdin", input="short\n"
    )
    assert result.exit_code != 0
    assert "password" in result.output
    assert "at least 10 characters" in result.output
    assert moderator_row("alice") is None


def test_create_admin(invoke, moderator_row):
    result = invoke(
        "moderators", "create", "root", "--admin", "--password-stdin", input=PASSWORD
    )
    assert result.exit_code == 0, result.output
    assert "created admin root" in result.output
    assert moderator_row("root").role == Role.ADMIN


def test_create_moderator_for_sites(invoke, moderator_row):
    create_news(invoke)
    invoke("sites", "create", "blog", "--name", "A Blog")
    invoke("sites", "create", "shop", "--name", "A Shop")

    result = invoke(
        "moderators", "create", "bob", "--site", "news", "--site", "blog",
        "--email", "bob@news.example", "--password-stdin", input=PASSWORD,
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    bob = moderator_row("bob")
    assert bob.site_slugs == ["blog", "news"]
    assert bob.email == "bob@news.example"


def test_create_moderator_for_an_unknown_site_is_refused(invoke, moderator_row):
    create_news(invoke)
    result = invoke(
        "moderators", "create", "bob", "--site", "news", "--site", "nope",
        "--password-stdin", input=PASSWORD,
    )  # fmt: skip
    assert result.exit_code != 0
    assert "There is no site 'nope'" in result.output
    assert moderator_row("bob") is None


def test_duplicate_moderator_is_refused(invoke, password_works):
    invoke("moderators", "create", "alice", "--password-stdin", input=PASSWORD)
    result = invoke(
        "moderators", "create", "alice", "--password-stdin", input="another password"
    )
    assert result.exit_code != 0
    assert "'alice' is taken" in result.output
    assert password_works("alice", PASSWORD)


# --- demo-setup -----------------------------------------------------------------

LOGIN = re.compile(r"username '(?P<username>[^']+)', password '(?P<password>[^']+)'")


def test_demo_setup_is_idempotent_and_prints_a_working_login(invoke, app):
    for _ in range(2):
        result = invoke("demo-setup", "--origin", "http://127.0.0.1:8000")
        assert result.exit_code == 0, result.output
        login = LOGIN.search(result.output)
        assert login, result.output

        with app.app_context():
            sites = db.session.scalars(sa.select(Site)).all()
            assert [s.slug for s in sites] == ["demo"]
            assert sites[0].allowed_origins == ["http://127.0.0.1:8000"]
            moderators = db.session.scalars(sa.select(Moderator)).all()
            assert [m.username for m in moderators] == [login["username"]]
            assert moderators[0].role == Role.ADMIN
            assert verify_password(moderators[0], login["password"])


def test_demo_setup_again_keeps_the_origins_added_since(invoke, site_row):
    assert invoke("demo-setup", "--origin", "http://127.0.0.1:8001").exit_code == 0
    added = invoke("sites", "update", "demo", "--add-origin", "http://127.0.0.1:8080")
    assert added.exit_code == 0, added.output
    result = invoke("demo-setup", "--origin", "http://127.0.0.1:9001")  # new ports
    assert result.exit_code == 0, result.output
    assert site_row("demo").allowed_origins == [
        "http://127.0.0.1:9001",
        "http://127.0.0.1:8001",
        "http://127.0.0.1:8080",
    ]


def test_demo_setup_with_a_secret_lets_the_demo_s_readers_sign_in(invoke, app):
    """./scripts/demo's subscriber page signs its token with this secret."""
    secret = "demo-secret-of-thirty-two-bytes-long!!"
    result = invoke("demo-setup", "--sso-secret", secret)
    assert result.exit_code == 0, result.output

    with app.app_context():
        site = db.session.scalars(sa.select(Site)).one()
        settings = reader_accounts.sign_in_settings(site.id, site.slug)
        assert (settings.sso_secret, settings.email_sign_in) == (secret, True)


# --- moderators list / deactivate / reactivate / set-password / sites -----------


@pytest.fixture
def staff(invoke):
    create_news(invoke)
    invoke("sites", "create", "blog", "--name", "A Blog")
    invoke(
        "moderators", "create", "root", "--admin", "--password-stdin", input=PASSWORD
    )
    invoke(
        "moderators", "create", "alice", "--site", "news", "--password-stdin",
        input=PASSWORD,
    )  # fmt: skip


def test_moderators_list_shows_role_sites_and_state(invoke, staff):
    invoke("moderators", "deactivate", "alice")
    result = invoke("moderators", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split("\t") == ["alice", "moderator", "news", "inactive"]
    assert lines[1].split("\t") == ["root", "admin", "every site", "active"]
    assert "argon2" not in result.output


def test_deactivate_and_reactivate(invoke, staff, moderator_row):
    result = invoke("moderators", "deactivate", "alice")
    assert result.exit_code == 0, result.output
    assert "deactivated alice" in result.output
    assert moderator_row("alice").active is False
    result = invoke("moderators", "reactivate", "alice")
    assert result.exit_code == 0, result.output
    assert moderator_row("alice").active is True


def test_the_last_active_admin_stays(invoke, staff, moderator_row):
    result = invoke("moderators", "deactivate", "root")
    assert result.exit_code != 0
    assert "last active admin" in result.output
    assert moderator_row("root").active is True


def test_unknown_moderator_is_an_error(invoke, staff):
    for args in (
        ["deactivate", "nobody"],
        ["reactivate", "nobody"],
        ["sites", "nobody", "--site", "news"],
        ["end-sessions", "nobody"],
    ):
        result = invoke("moderators", *args)
        assert result.exit_code != 0, args
        assert "there is no moderator 'nobody'" in result.output


def test_set_password_ends_sessions_and_checks_length(
    invoke, staff, moderator_row, password_works
):
    before = moderator_row("alice").session_generation
    result = invoke(
        "moderators", "set-password", "alice", "--password-stdin",
        input="a new long password\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "a new long password" not in result.output
    assert password_works("alice", "a new long password")
    assert not password_works("alice", PASSWORD)
    assert moderator_row("alice").session_generation > before
    short = invoke(
        "moderators", "set-password", "alice", "--password-stdin", input="short\n"
    )
    assert short.exit_code != 0
    assert "at least 10 characters" in short.output


def test_sites_replaces_adds_and_removes(invoke, staff, moderator_row):
    result = invoke("moderators", "sites", "alice", "--site", "blog")
    assert result.exit_code == 0, result.output
    assert moderator_row("alice").site_slugs == ["blog"]
    invoke("moderators", "sites", "alice", "--add-site", "news")
    assert moderator_row("alice").site_slugs == ["blog", "news"]
    invoke("moderators", "sites", "alice", "--remove-site", "blog")
    assert moderator_row("alice").site_slugs == ["news"]
    bad = invoke("moderators", "sites", "alice", "--add-site", "nope")
    assert bad.exit_code != 0
    assert "There is no site 'nope'" in bad.output
    assert moderator_row("alice").site_slugs == ["news"]


def test_end_sessions_raises_the_generation(invoke, staff, moderator_row):
    before = moderator_row("alice").session_generation
    result = invoke("moderators", "end-sessions", "alice")
    assert result.exit_code == 0, result.output
    assert moderator_row("alice").session_generation == before + 1


# --- rough edges: empty lists, absent origins and sites, the option typed -------


def test_empty_lists_say_none(invoke):
    for args in (["sites", "list"], ["moderators", "list"], ["webhooks", "list"]):
        result = invoke(*args)
        assert result.exit_code == 0, result.output
        assert result.output == "none\n", args
    create_news(invoke)
    threads = invoke("threads", "list", "news")
    assert threads.exit_code == 0, threads.output
    assert threads.output == "none\n"
    invoke("sites", "create", "blog", "--name", "A Blog")
    listed = invoke("sites", "list").output.splitlines()
    assert listed[0].startswith("blog\t") and listed[0].endswith("\torigins=none")
    invoke("moderators", "create", "bob", "--password-stdin", input=PASSWORD)
    assert invoke("moderators", "list").output.split("\t")[2] == "none"


def test_removing_an_origin_that_is_not_there_says_so(invoke, site_row):
    create_news(invoke, "--origin", "https://www.news.example")
    result = invoke(
        "sites", "update", "news", "--name", "Renamed",
        "--remove-origin", "https://amp.news.example",
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: --remove-origin https://amp.news.example: site news has no such "
        "origin (its origins: https://news.example https://www.news.example)"
    )
    site = site_row("news")
    assert site.name == "Example News"
    assert site.allowed_origins == ["https://news.example", "https://www.news.example"]


def test_removing_a_site_a_moderator_lacks_says_so(invoke, staff, moderator_row):
    result = invoke("moderators", "sites", "alice", "--remove-site", "blog")
    assert result.exit_code == 1
    assert "error: --remove-site blog: alice does not moderate it" in result.output
    assert moderator_row("alice").site_slugs == ["news"]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--close-after-days", "soon", "A number of days from 1 to 36500"),
        ("--close-after-days", "1.5", "A number of days from 1 to 36500"),
        ("--edit-window", "-1", "A number from 0 to 86400."),
        ("--report-threshold", "0", "A number from 1 to 1000."),
        ("--post-rate-limit", "bogus", "is not a rate limit"),
        ("--captcha-score-threshold", "3", "A score between 0.0 and 1.0."),
        ("--spam-threshold", "2", "A probability above 0"),
    ],
)
def test_errors_name_the_option_typed(invoke, site_row, option, value, message):
    create_news(invoke)
    result = invoke("sites", "update", "news", option, value)
    assert result.exit_code == 1
    assert result.output.startswith(f"error: {option}: ")
    assert message in result.output
    assert "_" not in result.output.split(":")[0]


def test_a_bad_origin_names_the_option(invoke):
    result = invoke("sites", "create", "news", "--name", "N", "--origin", "nope")
    assert result.exit_code == 1
    assert result.output.startswith("error: --origin: 'nope' is not an origin")
