"""The reasons a comment was held, as sentences: each signal as the code
writes it (commentsvc.spam, the captcha check, bans, edits, imports)."""

from types import SimpleNamespace

import pytest

from commentsvc.captcha.result import CaptchaResult, Outcome
from commentsvc.comments.reasons import held_reasons, is_warning, why_waiting
from commentsvc.learning import Judgement
from commentsvc.spam.verdict import Verdict

SITE = SimpleNamespace(max_links=2)


def _held(reason, value=True) -> dict:
    verdict = Verdict()
    verdict.hold(reason, value)
    return verdict.signals


def _spam(signal, value=True) -> dict:
    verdict = Verdict()
    verdict.spam(signal, value)
    return verdict.signals


@pytest.mark.parametrize(
    ("signals", "sentence"),
    [
        (_held("too_many_links", 3), "3 links (the site allows 2)"),
        (
            _held("url_shortener", ["bit.ly"]),
            "A link through a URL shortener: \u201cbit.ly\u201d",
        ),
        (
            _held("watch_words", ["crypto*", "loan"]),
            "Matched the watched words \u201ccrypto*\u201d, \u201cloan\u201d",
        ),
        (
            _spam("blocked_words", ["casino"]),
            "Matched the blocked word \u201ccasino\u201d",
        ),
        (
            _held("looks_like_spam", 0.62),
            "The spam filter says it looks like spam (62 % spam)",
        ),
        (
            _held("spam_filter_unavailable", "BrokenModel"),
            "The spam filter could not judge it (BrokenModel)",
        ),
        (
            _spam("duplicate", 17),
            "The same text was posted before by the same author (in the last 24 hours)",
        ),
        (_spam("same_body_on_many_threads", 3), "The same text on 3 pages"),
        (_spam("honeypot"), "A hidden field was filled in (robots fill it)"),
        (_spam("form_token_reused"), "The same form was sent twice"),
        (
            _held("no_form_token"),
            "Sent without the form's token (not from the page's form)",
        ),
        (_spam("form_token_invalid"), "The form's token was not valid"),
        (_held("form_token_too_old", 7300), "The form was left open for 7300 seconds"),
        (_spam("too_fast", 2.0), "Posted 2 seconds after the form was shown"),
        (_spam("too_fast", 1.25), "Posted 1.25 seconds after the form was shown"),
        (
            _spam("banned", {"kind": "email", "value": "x@example.org"}),
            "Email x@example.org is on the ban list",
        ),
        (
            _spam("banned", {"kind": "network", "value": "203.0.113.0/24"}),
            "Network 203.0.113.0/24 is on the ban list",
        ),
        (_spam("akismet", "spam"), "Akismet says spam"),
        ({"akismet": "unavailable"}, "Akismet did not answer"),
        (_spam("captcha_low_score", 0.1), "Captcha score too low (0.1)"),
        (
            {"trusted_author": True},
            "Published at once: the author has approved comments on this site",
        ),
        (
            {"import": {"source": "wordpress", "id": "12", "type": "pingback"}},
            "Imported from WordPress",
        ),
        ({"import": {"source": "disqus", "id": "9"}}, "Imported from Disqus"),
    ],
)
def test_each_signal_is_a_sentence(signals, sentence):
    assert sentence in held_reasons(signals, SITE)


def _captcha(**fields) -> dict:
    return {"captcha": CaptchaResult(**fields).as_signal()}


def test_captcha_signals_as_the_service_writes_them():
    ok = _captcha(provider="dev", outcome=Outcome.OK, success=True)
    assert held_reasons(ok, SITE) == ["Captcha verified (dev captcha)"]
    scored = _captcha(
        provider="recaptcha_v3", outcome=Outcome.OK, success=True, score=0.9
    )
    assert held_reasons(scored, SITE) == ["Captcha verified (reCAPTCHA v3, score 0.9)"]
    # comments.service.add_captcha: unavailable is held, with its detail.
    result = CaptchaResult(
        provider="hcaptcha", outcome=Outcome.UNAVAILABLE, detail="timed out"
    )
    verdict = Verdict()
    verdict.signals["captcha"] = result.as_signal()
    verdict.signals["captcha_unverified"] = result.detail
    verdict.hold("captcha_unverified")
    assert held_reasons(verdict.signals, SITE) == [
        "Captcha not verified: the provider did not answer (hCaptcha: timed out)"
    ]
    assert held_reasons({"captcha_unverified": "unavailable"}, SITE) == [
        "Captcha not verified: the provider did not answer"
    ]
    bare = _captcha(provider="turnstile", outcome=Outcome.UNAVAILABLE)
    assert held_reasons(bare, SITE) == [
        "Captcha not verified: the provider did not answer (Cloudflare Turnstile)"
    ]
    assert held_reasons(_captcha(provider="none", outcome=Outcome.NOT_REQUIRED)) == []


def test_the_spam_filter_signal_is_a_badge_not_a_line():
    judgement = Judgement("spam", 0.97, "starter", 0.9, (("casino", 1.2),))
    verdict = Verdict()
    verdict.spam("spam_filter", judgement.as_signal())
    assert held_reasons(verdict.signals, SITE) == []
    assert is_warning(verdict.signals)
    passed = {"spam_filter": Judgement("pass", 0.1, "starter", 0.9).as_signal()}
    assert not is_warning(passed)


def test_held_first_then_the_rest_without_repeats():
    verdict = Verdict()
    verdict.signals["akismet"] = "ham"
    verdict.hold("too_many_links", 5)
    verdict.spam("too_fast", 1)
    assert held_reasons(verdict.signals, SITE) == [
        "5 links (the site allows 2)",
        "Posted 1 second after the form was shown",
    ]


def test_an_edit_explains_its_own_reasons():
    inner = _held("too_many_links", 4)
    signals = {"captcha": {"provider": "dev", "outcome": "ok"}, "edit": inner}
    assert held_reasons(signals, SITE) == [
        "After its author's edit: 4 links (the site allows 2)",
        "Captcha verified (dev captcha)",
    ]


def test_unknown_and_strange_values_read_as_words_never_a_repr():
    signals = {
        "new_rule": {"hits": 2, "strict": True},
        "held": {"some_reason": ["a", "b"]},
        "too_many_links": {"odd": "shape"},
        "erased": True,
    }
    lines = held_reasons(signals, SITE)
    assert "Some reason: a, b" in lines
    assert "New rule: hits 2, strict yes" in lines
    assert all("{" not in line and "[" not in line for line in lines)
    assert held_reasons(None) == [] and held_reasons({}) == []


def test_a_comment_gives_its_signals_and_site():
    comment = SimpleNamespace(
        signals=_held("too_many_links", 3), site=SimpleNamespace(max_links=0)
    )
    assert held_reasons(comment) == ["3 links (the site allows 0)"]
    assert is_warning(comment)
    assert not is_warning(SimpleNamespace(signals={"trusted_author": True}))


def test_too_fast_names_the_sites_minimum():
    # A new moderator saw "Posted 1.89 seconds after the form was shown" on a
    # comment stored as spam and could not tell why that mattered.
    site = SimpleNamespace(max_links=2, min_submit_seconds=3)
    assert held_reasons(_spam("too_fast", 1.89), site) == [
        "Posted 1.89 seconds after the form was shown (the site's minimum is 3)"
    ]
    off = SimpleNamespace(max_links=2, min_submit_seconds=0)
    assert held_reasons(_spam("too_fast", 1.89), off) == [
        "Posted 1.89 seconds after the form was shown"
    ]


def test_a_pending_comment_nothing_marked_says_the_sites_rule_holds_it():
    hold_all = SimpleNamespace(moderation_policy="hold_all", max_links=2)
    trust = SimpleNamespace(
        moderation_policy="trust_approved_authors",
        trusted_author_min_approved=2,
        max_links=2,
    )
    quiet = {"spam_filter": {"probability": 0.1, "verdict": "ham"}}
    assert why_waiting(SimpleNamespace(signals=quiet, site=hold_all)) == [
        "Every comment on this site waits for a moderator."
    ]
    assert why_waiting(SimpleNamespace(signals=None, site=trust)) == [
        "The site publishes at once only authors with 2 approved comments or "
        "more; this author has fewer."
    ]
    held = SimpleNamespace(signals=_held("too_many_links", 3), site=hold_all)
    assert why_waiting(held) == ["3 links (the site allows 2)"]


VERIFIED = {"captcha": {"provider": "dev", "outcome": "ok", "success": True}}
HOLD_ALL = SimpleNamespace(moderation_policy="hold_all", max_links=2)


def test_a_verified_captcha_is_never_the_reason_it_waits():
    # A moderator read "Captcha verified (dev captcha)" as why a comment was
    # held on a site that holds every comment (issue 25).
    quiet = {**VERIFIED, "spam_filter": {"probability": 0.1, "verdict": "pass"}}
    assert why_waiting(SimpleNamespace(signals=quiet, site=HOLD_ALL)) == [
        "Every comment on this site waits for a moderator.",
        "Captcha verified (dev captcha)",
    ]
    trust = SimpleNamespace(
        moderation_policy="trust_approved_authors",
        trusted_author_min_approved=1,
        max_links=2,
    )
    assert why_waiting(SimpleNamespace(signals=VERIFIED, site=trust)) == [
        "The site publishes at once only authors with 1 approved comment or "
        "more; this author has fewer.",
        "Captcha verified (dev captcha)",
    ]


def test_what_held_it_comes_before_what_was_noted():
    # The captcha is checked before the rules that run after it: its signal
    # is written first, its sentence still comes last.
    verdict = Verdict()
    verdict.signals.update(VERIFIED)
    verdict.hold("too_many_links", 3)
    verdict.signals["trusted_author"] = True
    comment = SimpleNamespace(signals=verdict.signals, site=HOLD_ALL)
    assert (
        why_waiting(comment)
        == held_reasons(comment)
        == [
            "3 links (the site allows 2)",
            "Captcha verified (dev captcha)",
            "Published at once: the author has approved comments on this site",
        ]
    )
    spam = {**VERIFIED, "too_fast": 1}
    assert held_reasons(spam, SITE)[0] == "Posted 1 second after the form was shown"
    # A captcha that failed is a reason, in its place.
    low = {"captcha": {"provider": "dev", "outcome": "low_score", "score": 0.1}}
    assert why_waiting(SimpleNamespace(signals=low, site=HOLD_ALL)) == [
        "Captcha score too low (dev captcha, score 0.1)"
    ]
