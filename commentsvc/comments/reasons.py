"""Why a comment was held or marked, in sentences: for the review queue's
cards and for the moderators' mail.

The comment's ``signals`` JSON is written by the spam rules (commentsvc.spam),
the captcha check (comments.service.add_captcha), bans, edits and imports; each
known signal gets a sentence here, an unknown one a readable "name: value" line.
"""

from collections.abc import Mapping
from typing import NamedTuple

PROVIDERS = {
    "dev": "dev captcha",
    "recaptcha_v2": "reCAPTCHA v2",
    "recaptcha_v3": "reCAPTCHA v3",
    "hcaptcha": "hCaptcha",
    "turnstile": "Cloudflare Turnstile",
}
# Signals that explain nothing a moderator acts on, or that have their own
# place on the card (the spam filter's badge).
QUIET = {"spam_filter", "erased"}
# Signals that mark a comment as likely spam: the card gets a warning style.
WARNING = {
    "too_many_links",
    "url_shortener",
    "watch_words",
    "blocked_words",
    "looks_like_spam",
    "duplicate",
    "same_body_on_many_threads",
    "near_duplicate_of_spam",
    "near_duplicate_campaign",
    "captcha_low_score",
    "honeypot",
    "form_token_reused",
    "form_token_invalid",
    "too_fast",
    "banned",
    "akismet",
    "spam_filter",
}


def _q(text) -> str:
    return f"\u201c{text}\u201d"


def _words(value) -> str:
    items = value if isinstance(value, list | tuple) else [value]
    return ", ".join(_q(v) for v in items[:10])


def _plural(n, one: str, many: str) -> str:
    return one if n == 1 else many


def _number(value) -> str:
    """A count or a number of seconds; anything else is not a shape we wrote."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(value)
    if isinstance(value, float) and not value.is_integer():
        return f"{value:g}"
    return str(int(value))


def _readable(value) -> str:
    """Any JSON value as words: a mapping as "key value, …", never a repr."""
    if isinstance(value, Mapping):
        return ", ".join(
            f"{str(k).replace('_', ' ')} {_readable(v)}" for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        return ", ".join(_readable(v) for v in value)
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value is None:
        return "none"
    return str(value)


def _matched(which: str, value) -> str:
    n = len(value) if isinstance(value, list) else 1
    return f"Matched the {which} {_plural(n, 'word', 'words')} {_words(value)}"


def _captcha(value, site) -> str | None:
    if value == "signed_in":
        return "No captcha asked: the author is signed in"
    if not isinstance(value, Mapping):
        return f"Captcha: {_readable(value)}"
    provider = PROVIDERS.get(value.get("provider"), value.get("provider") or "")
    outcome = value.get("outcome")
    if outcome == "not_required":
        return None
    score = value.get("score")
    scored = f", score {score:g}" if isinstance(score, int | float) else ""
    if outcome == "ok":
        return f"Captcha verified ({provider}{scored})"
    if outcome == "low_score":
        return f"Captcha score too low ({provider}{scored})"
    detail = value.get("detail")
    said = {
        "unavailable": "the provider did not answer",
        "misconfigured": "the provider refused our captcha keys",
    }.get(outcome, (outcome or "unknown").replace("_", " "))
    why = f"{provider}: {detail}" if detail and detail != said else provider
    return f"Captcha not verified: {said} ({why})"


def _captcha_unverified(value, site) -> str:
    detail = value if isinstance(value, str) and value != "unavailable" else None
    said = "Captcha not verified: the provider did not answer"
    return f"{said} ({detail})" if detail else said


def _too_many_links(value, site) -> str:
    allowed = getattr(site, "max_links", None)
    if isinstance(value, bool):
        links = "Too many links"
    else:
        links = f"{_number(value)} {_plural(value, 'link', 'links')}"
    if allowed is None:
        return links
    return f"{links} (the site allows {allowed})"


def _too_fast(value, site) -> str:
    seconds = _plural(value, "second", "seconds")
    said = f"Posted {_number(value)} {seconds} after the form was shown"
    minimum = getattr(site, "min_submit_seconds", None)
    if isinstance(minimum, int) and not isinstance(minimum, bool) and minimum > 0:
        # Say why it counts: the site's minimum, as "3 links (the site allows 2)".
        return f"{said} (the site's minimum is {_number(minimum)})"
    return said


def _spam_filter_hold(value, site) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"The spam filter says it looks like spam ({value * 100:.0f} % spam)"
    return "The spam filter says it looks like spam"


def _likely_rejected(value, site) -> str | None:
    # Held for it: a sentence. The score itself has its own line on the card.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"Likely to be rejected ({value * 100:.0f} %)"
    return None


def _banned(value, site) -> str:
    if isinstance(value, Mapping):
        kind = {"email": "Email", "ip": "IP address", "network": "Network"}.get(
            value.get("kind"), "Author"
        )
        return f"{kind} {value.get('value', '')} is on the ban list".replace("  ", " ")
    return "The author is on the ban list"


def _akismet(value, site) -> str | None:
    return {
        "spam": "Akismet says spam",
        "ham": None,
        "unavailable": "Akismet did not answer",
    }.get(value, f"Akismet: {_readable(value)}")


def _edit(value, site) -> list[str]:
    inner = held_reasons(value, site) if isinstance(value, Mapping) else []
    return [f"After its author's edit: {r[0].lower()}{r[1:]}" for r in inner]


def _imported(value, site) -> str:
    if isinstance(value, Mapping):
        source = {"wordpress": "WordPress", "disqus": "Disqus"}.get(
            value.get("source"), value.get("source") or "another system"
        )
        return f"Imported from {source}"
    return "Imported"


def _near(value, where: str) -> str:
    """A near-duplicate rule's sentence: how alike, and with what."""
    value = value if isinstance(value, Mapping) else {}
    similarity = value.get("similarity")
    alike = ""
    if isinstance(similarity, int | float) and not isinstance(similarity, bool):
        alike = f" ({round(similarity * 100)} % alike)"
    if isinstance(value.get("threads"), int):
        where = f"{_number(value['threads'])} pages in the last day"
    elif isinstance(value.get("comment"), int):
        where = f"{where}, #{value['comment']}"
    return f"Nearly the same text as {where}{alike}"


def _new_account(value, site) -> str:
    approved, needed = value["approved"], value["needed"]
    return (
        f"A new account: {_number(approved)} of its comments approved, the site "
        f"publishes an account's comments after {_number(needed)}"
    )


def _mostly_rejected(value, site) -> str:
    rejected, of = value["rejected"], value["of"]
    return (
        f"The account's recent comments were mostly rejected ({_number(rejected)} "
        f"of its last {_number(of)} decided)"
    )


SENTENCES = {
    "too_many_links": _too_many_links,
    "url_shortener": lambda v, s: f"A link through a URL shortener: {_words(v)}",
    "watch_words": lambda v, s: _matched("watched", v),
    "blocked_words": lambda v, s: _matched("blocked", v),
    "captcha": _captcha,
    "captcha_unverified": _captcha_unverified,
    "captcha_low_score": lambda v, s: f"Captcha score too low ({_readable(v)})",
    "looks_like_spam": _spam_filter_hold,
    "likely_rejected": _likely_rejected,
    "spam_filter_unavailable": lambda v, s: (
        "The spam filter could not judge it"
        + (f" ({v})" if isinstance(v, str) and v else "")
    ),
    "duplicate": lambda v, s: (
        "The same text was posted before by the same author (in the last 24 hours)"
    ),
    "same_body_on_many_threads": lambda v, s: f"The same text on {_number(v)} pages",
    "near_duplicate_of_spam": lambda v, s: _near(v, "a comment marked as spam"),
    "near_duplicate_campaign": lambda v, s: _near(v, "other pages in the last day"),
    "honeypot": lambda v, s: "A hidden field was filled in (robots fill it)",
    "form_token_reused": lambda v, s: "The same form was sent twice",
    "no_form_token": lambda v, s: (
        "Sent without the form's token (not from the page's form)"
    ),
    "form_token_invalid": lambda v, s: "The form's token was not valid",
    "form_token_too_old": lambda v, s: (
        "The form was left open for "
        + (f"{_number(v)} seconds" if not isinstance(v, bool) else "too long")
    ),
    "too_fast": _too_fast,
    "banned": _banned,
    "akismet": _akismet,
    "trusted_author": lambda v, s: (
        "Published at once: the author has approved comments on this site"
    ),
    "edit": _edit,
    "import": _imported,
    "new_account": _new_account,
    "mostly_rejected": _mostly_rejected,
    "trusted_account": lambda v, s: (
        "Published at once: the author's account has approved comments on this site"
    ),
    "staff": lambda v, s: "Published at once: written by staff",
}


def _is_note(name: str, value) -> bool:
    """Whether a signal says what did not hold the comment (a passed captcha,
    a signed-in author, a trusted author or account, staff): shown after the
    reasons, never taken for one."""
    if name in ("trusted_author", "trusted_account", "staff"):
        return True
    if name == "captcha" and value == "signed_in":
        return True
    return (
        name == "captcha"
        and isinstance(value, Mapping)
        and value.get("outcome") in ("ok", "not_required")
    )


def _sentences(items, site) -> list[str]:
    sentences = []
    for name, value in items:
        found = _sentence(name, value, site)
        for sentence in found if isinstance(found, list) else [found]:
            if sentence and sentence not in sentences:
                sentences.append(sentence)
    return sentences


def _reasons_and_notes(comment_or_signals, site) -> tuple[list[str], list[str]]:
    """(what held or marked the comment, what was noted beside it), each as
    sentences: the ``held`` reasons first, then the other signals that mark it;
    the notes (a passed captcha, a trusted author) apart."""
    signals = getattr(comment_or_signals, "signals", comment_or_signals)
    if site is None:
        site = getattr(comment_or_signals, "site", None)
    if not isinstance(signals, Mapping):
        return [], []
    held = signals.get("held")
    held = held if isinstance(held, Mapping) else {}
    items = [*held.items()]
    items += [(k, v) for k, v in signals.items() if k != "held" and k not in held]
    # The captcha signal's own sentence says "not verified", with the provider.
    skip = {"captcha_unverified"} if "captcha" in signals else set()
    items = [(k, v) for k, v in items if k not in QUIET and k not in skip]
    reasons = _sentences([(k, v) for k, v in items if not _is_note(k, v)], site)
    notes = _sentences([(k, v) for k, v in items if _is_note(k, v)], site)
    return reasons, [n for n in notes if n not in reasons]


def held_reasons(comment_or_signals, site=None) -> list[str]:
    """The reasons a comment was held or marked, as sentences: held reasons
    first, then the other signals that mark it, then what was noted beside
    them (a verified captcha: never a reason); an unknown signal as
    "name: value".

    *comment_or_signals* is a comment (its ``signals`` and ``site`` are read)
    or a signals dict; *site* gives the limits the sentences quote (max links).
    Never raises on a strange value: it is shown as words.
    """
    reasons, notes = _reasons_and_notes(comment_or_signals, site)
    return reasons + notes


def _sentence(name: str, value, site):
    describe = SENTENCES.get(name)
    if describe is not None:
        try:
            return describe(value, site)
        except (TypeError, ValueError, AttributeError, KeyError):
            pass  # a value of a shape we did not write: shown as words below
    return f"{str(name).replace('_', ' ').capitalize()}: {_readable(value)}"


def is_warning(comment_or_signals) -> bool:
    """Whether the signals mark the comment as likely spam (a warning style)."""
    signals = getattr(comment_or_signals, "signals", comment_or_signals)
    if not isinstance(signals, Mapping):
        return False
    held = signals.get("held") if isinstance(signals.get("held"), Mapping) else {}
    names = set(held) | set(signals)
    if signals.get("akismet") in ("ham", "unavailable"):
        names.discard("akismet")
    verdict = (
        (signals.get("spam_filter") or {})
        if isinstance(signals.get("spam_filter"), Mapping)
        else {}
    )
    if verdict.get("verdict") not in ("spam", "hold"):
        names.discard("spam_filter")
    return bool(names & WARNING)


def why_waiting(comment) -> list[str]:
    """Why a pending *comment* waits for a moderator, the reason that holds it
    first: what held it, or, when nothing did, the site's rule that holds
    every comment (or an author's first ones); then what was noted beside it
    (a verified captcha holds nothing: it comes after)."""
    reasons, notes = explain_waiting(comment)
    return reasons + notes


class Why(NamedTuple):
    """Why a comment was held (``reasons``) and what was noted beside it
    (``notes``: a verified captcha, a trusted author), to be shown apart."""

    reasons: list[str]
    notes: list[str]


def explain(comment_or_signals, site=None) -> Why:
    """:func:`held_reasons`, with the notes apart from the reasons."""
    return Why(*_reasons_and_notes(comment_or_signals, site))


def explain_waiting(comment) -> Why:
    """:func:`why_waiting`, with the notes apart from the reasons."""
    reasons, notes = _reasons_and_notes(comment, None)
    return Why(reasons or [_site_rule(getattr(comment, "site", None))], notes)


def as_sentences(sentences) -> str:
    """*sentences* on one line, each ending in a full stop: "A. B (c)."
    rather than "A.; B (c)" (some sentences end in one, some do not)."""
    return " ".join(s if s.endswith((".", "?", "!")) else f"{s}." for s in sentences)


def _site_rule(site) -> str:
    if getattr(site, "moderation_policy", None) == "trust_approved_authors":
        needed = site.trusted_author_min_approved
        return (
            "The site publishes at once only authors with "
            f"{_number(needed)} approved {_plural(needed, 'comment', 'comments')}"
            " or more; this author has fewer."
        )
    return "Every comment on this site waits for a moderator."
