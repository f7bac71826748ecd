"""Spam protection: every submission gets a verdict with its reasons.

Rules that need nothing but the submission run before the captcha
(:func:`assess`), the learning filter last among them (a cached model, no
training: see commentsvc.learning), then the likelihood that the site rejects
it (commentsvc.rejections) on the same features, which may ask the reader to
reconsider before anything is spent. After it, in the transaction that stores
the comment, the rules that read earlier comments (:func:`check_history`:
the same body, or nearly the same, see neardup.py); after the insert, in that
transaction, the comment's near-duplicate signature (:func:`remember`);
then Akismet and the
form token's single use (:func:`after_captcha`), so that a captcha refusal
(which stores nothing) spends neither.
"""

from .. import learning, rejections
from ..comments.errors import MayBreakRules
from ..learning import features
from ..models import CommentStatus, Site
from . import akismet_check, formtoken, neardup, rules
from .verdict import Verdict

__all__ = [
    "Verdict",
    "assess",
    "check_history",
    "remember",
    "resign",
    "asks_akismet",
    "after_captcha",
    "publish_if_trusted",
    "not_stored",
]


def assess(site: Site, submission, client, verdict: Verdict) -> dict | None:
    """Run the rules that need nothing but the submission; return the form
    token's data (to be marked used once the comment is stored), or None.

    Raises:
        MayBreakRules: see :func:`check_rejected`.
    """
    if submission.honeypot:
        verdict.spam("honeypot")
    token = None
    reader = getattr(submission, "reader", None)
    # A moderator's staff reply comes from the moderation UI (logged in,
    # CSRF-checked), not from the embed's form: it has no time trap to pass.
    if reader is None or reader.provider != "staff":
        try:
            token = formtoken.check(site, submission.form_token)
        except formtoken.FormTokenProblem as problem:
            # A signed-in reader is someone the site knows: a quick paste is
            # a moderator's call, never spam in their account's history.
            if problem.spam and reader is None:
                verdict.spam(problem.signal, problem.value)
            else:
                verdict.hold(problem.signal, problem.value)
    rules.check_links(site, submission.body, submission.author, verdict)
    rules.check_words(
        site,
        submission.author,
        submission.email,
        submission.body,
        submission.url,
        verdict,
    )
    row = None
    if site.spam_filter_enabled:
        # One features row for both models (about 0.1 ms).
        row = features.extract(submission.author, submission.body)
    check_learned(site, submission.author, submission.body, verdict, row)
    check_rejected(
        site,
        submission.author,
        submission.body,
        verdict,
        row,
        may_nudge=not submission.post_anyway,
    )
    return token


def check_learned(
    site: Site, author: str, body: str, verdict: Verdict, row=None
) -> None:
    """The learning filter's spam probability, in the signals; at or above the
    site's spam threshold the comment is spam, at or above its hold threshold
    it is held ("looks like spam"). A failed filter holds the comment."""
    judgement = learning.judge(site, author, body, row)
    if judgement.outcome == "off":
        return
    if judgement.outcome == "unavailable":
        verdict.hold("spam_filter_unavailable", judgement.detail)
        return
    signal = judgement.as_signal()
    verdict.signals["spam_filter"] = signal
    if judgement.outcome == "spam":
        verdict.spam("spam_filter", signal)
    elif judgement.outcome == "hold":
        verdict.hold("looks_like_spam", signal["probability"])


def check_rejected(
    site: Site, author: str, body: str, verdict: Verdict, row=None, may_nudge=False
) -> None:
    """The likelihood that the site rejects the comment, in the signals
    (``likely_rejected``). At or above the site's reject_threshold, on a site
    that asks readers to reconsider, a first submission (*may_nudge*) is
    refused with MayBreakRules (before the captcha and the form token are
    spent); sent again with post_anyway, an author's edit, or on a site that
    holds trusted authors' likely rejects, it is held (never published at
    once). Spam is never nudged: it
    is stored as spam without a word to its sender. The learning filter's
    switch (spam_filter_enabled) turns both learned models off.

    Raises:
        MayBreakRules: the site asks the reader to reconsider first.
    """
    if not site.spam_filter_enabled:
        return
    likely = rejections.judge(site, author, body, row)
    if likely is None:
        return
    verdict.signals["likely_rejected"] = likely.as_signal()
    if not likely.likely or verdict.is_spam:
        return
    if site.reject_nudge and may_nudge:
        raise MayBreakRules([word for word, _ in likely.pushed])
    if site.reject_nudge or site.reject_hold_trusted:
        verdict.hold("likely_rejected", round(likely.probability, 3))


def check_history(site: Site, submission, client, verdict: Verdict):
    """The rules that read the site's earlier comments: the same body again,
    or nearly the same (near-duplicates of decided spam, campaigns). Returns
    what :func:`remember` stores once the comment is.

    Raises:
        sqlalchemy.exc.DBAPIError: the database failed.
    """
    rules.check_duplicates(
        site, submission.body, submission.email, client.ip, submission.thread, verdict
    )
    if verdict.is_spam:
        # Spam already (and a spam flood should cost no more than it must).
        return neardup.sign(submission.body)
    return neardup.check(site, submission.thread, submission.body, verdict)


def remember(site_id: int, comment_id: int, signed) -> None:
    """Store a new comment's near-duplicate signature (what
    :func:`check_history` returned), in the caller's transaction.

    Raises:
        sqlalchemy.exc.DBAPIError: the database failed.
    """
    neardup.remember(site_id, comment_id, signed)


def asks_akismet(site: Site, verdict: Verdict) -> bool:
    """Whether :func:`after_captcha` will ask Akismet (an outside call the
    caller should hold no database connection through)."""
    return bool(site.akismet_key) and not verdict.is_spam


def after_captcha(
    site: Site, submission, client, verdict: Verdict, token
) -> dict | None:
    """Akismet's opinion (if the site uses it) and the form token's single use.

    Returns the form token's data if this submission spent it (hand it to
    :func:`not_stored` if the comment then cannot be stored), else None."""
    spent = None
    if token is not None:
        if formtoken.use(token):
            spent = token
        else:
            verdict.spam("form_token_reused")
    if asks_akismet(site, verdict):
        answer = akismet_check.check(
            site,
            submission.author,
            submission.email,
            submission.body,
            submission.url,
            client.ip,
            client.user_agent,
        )
        if answer == "spam":
            verdict.spam("akismet", "spam")
        elif answer == "unavailable":
            verdict.signals["akismet"] = "unavailable"
        else:
            verdict.signals["akismet"] = "ham"
    return spent


def not_stored(spent: dict | None) -> None:
    """The comment was not stored after all (the database failed): the form
    token it spent is good again, for the reader's retry."""
    if spent is not None:
        formtoken.release(spent)


def publish_if_trusted(site: Site, email: str | None, verdict: Verdict) -> None:
    """Publish at once when the site trusts authors with approved comments and
    nothing held this one."""
    if (
        verdict.status == CommentStatus.PENDING
        and not verdict.held
        and rules.trusted_author(site, email)
    ):
        verdict.status = CommentStatus.APPROVED
        verdict.signals["trusted_author"] = True


def resign(site_id: int, comment_id: int, body: str) -> None:
    """A comment's words changed (its author's edit): replace its near-duplicate
    signature, in the caller's transaction.

    Raises:
        sqlalchemy.exc.DBAPIError: the database failed.
    """
    neardup.replace(site_id, comment_id, body)
