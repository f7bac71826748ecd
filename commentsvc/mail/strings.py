"""Every word a mail or a mail page says, in one place (as the embed's STRINGS
table is for the embed): change or translate them here."""

STRINGS = {
    # Subjects ({site} is the site's name).
    "subject_moderator_comment": "[{site}] New comment by {author} awaits a decision",
    "subject_moderator_digest": "[{site}] {count} comment(s) await a decision",
    "subject_confirm": "[{site}] Confirm that you want mail about replies",
    "subject_reply": "[{site}] {author} replied to your comment",
    "subject_approved": "[{site}] Your comment is published",
    # Moderators.
    "moderator_intro": "A new comment on {site} needs a decision.",
    "digest_intro": "These comments on {site} need a decision.",
    "on_page": "On",
    "in_reply_to": "In reply to {author}:",
    "why_held": "Why it was held",
    "held_by_policy": "Every comment on this site waits for a moderator.",
    "approve": "Approve",
    "spam": "Spam",
    "reject": "Reject",
    "links_note": "The links open a page where one click decides; they work for "
    "{days} days and once.",
    "settings_note": "You get this mail because of your mail settings: {url}",
    # Readers.
    "confirm_intro": "Someone (hopefully you) asked to hear about replies to "
    "comments on {site} with this address. Nothing more is sent until you confirm.",
    "confirm_button": "Confirm",
    "confirm_ignore": "If this was not you, ignore this mail: nothing more will "
    "be sent.",
    "reply_intro": "{author} replied to your comment on {title}.",
    "approved_intro": "Your comment on {title} is published.",
    "your_comment": "Your comment:",
    "their_reply": "The reply:",
    "read_it": "Read it on the page",
    "unsubscribe_thread": "Stop mail about this page",
    "unsubscribe_all": "Stop all mail from {site}",
    # Pages.
    "page_decide_title": "{action} this comment?",
    "page_decide_done": "Done: the comment is {status}.",
    "page_decided_already": "This comment was already decided{by}: it is {status}.",
    "page_link_expired": "This link has expired. Decide in the moderation queue.",
    "page_link_invalid": "This link is not valid: it may have been cut short "
    "when it was copied.",
    "page_not_allowed": "This link's moderator may no longer decide on this "
    "site's comments (the account was deactivated or the site taken away).",
    "page_confirm_title": "Confirm mail about replies?",
    "page_confirmed": "Thank you: you will hear about replies.",
    "page_confirm_after_stop": "You stopped all mail from {site} after this link "
    "was sent, so nothing changed. To hear about replies again, tick the box "
    "with your next comment.",
    "page_unsubscribe_title": "Stop this mail?",
    "page_unsubscribed_thread": "Done: no more mail about this page.",
    "page_unsubscribed_all": "Done: no more mail from {site}.",
    "confirm_expired": "This confirmation link has expired: tick the box again "
    "with your next comment.",
}

# The reasons a comment was held or marked, in readable words (the signal's
# name in the comment's signals; its value follows in brackets, or takes the
# place of {}).
SIGNALS = {
    "too_many_links": "too many links",
    "url_shortener": "a link through a URL shortener",
    "watch_words": "words on the watch list",
    "blocked_words": "words on the blocked list",
    "captcha_unverified": "the captcha could not be checked",
    "looks_like_spam": "the spam filter thinks it looks like spam",
    "spam_filter_unavailable": "the spam filter could not judge it",
    "duplicate": "the same text was posted before",
    "same_body_on_many_threads": "the same text on many pages",
    "captcha_low_score": "a low captcha score",
    "honeypot": "a hidden field was filled in",
    "form_token_reused": "the form was sent twice",
    "no_form_token": "sent without the form's token (not from the page's form)",
    "form_token_invalid": "the form's token was not valid",
    "form_token_too_old": "the form was left open for too long",
    "too_fast": "filled in too fast for a person ({} s)",
    "banned": "the author is banned",
    "akismet": "Akismet says spam",
}

# How a moderator wants mail about a site.
MODES = {
    "each": "Each comment that needs a decision",
    "hourly": "An hourly digest",
    "daily": "A daily digest",
    "none": "No mail",
}


def t(key: str, **values) -> str:
    return STRINGS[key].format(**values)


def held_reasons(signals: dict) -> list[str]:
    """Why a comment waits, in words: the held reasons first, then the rest."""
    reasons = []
    for name, value in (signals.get("held") or {}).items():
        reasons.append(_describe(name, value))
    for name, value in signals.items():
        if name in SIGNALS and name not in (signals.get("held") or {}):
            reasons.append(_describe(name, value))
    return reasons or [STRINGS["held_by_policy"]]


def _describe(name: str, value) -> str:
    words = SIGNALS.get(name, name.replace("_", " "))
    if value is True or value is None or isinstance(value, dict):
        return words
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value[:5])
    if "{}" in words:  # the value has its own place in the words
        return words.format(value)
    return f"{words} ({value})"
