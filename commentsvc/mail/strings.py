"""Every word a mail or a mail page says, in one place (as the embed's STRINGS
table is for the embed): change or translate them here."""

STRINGS = {
    # Subjects ({site} is the site's name).
    "subject_moderator_comment": "[{site}] New comment by {author} awaits a decision",
    "subject_moderator_digest": "[{site}] {count} comment(s) await a decision",
    "subject_moderator_reported": "[{site}] Readers reported a comment by {author}",
    "subject_moderator_edit": "[{site}] {author} edited a published comment: "
    "the edit awaits a decision",
    "subject_confirm": "[{site}] Confirm that you want mail about replies",
    "subject_reply": "[{site}] {author} replied to your comment",
    "subject_approved": "[{site}] Your comment is published",
    "subject_notice": "[{site}] You will now get replies on {title}",
    "subject_sign_in": "[{site}] Your link to sign in",
    # Moderators.
    "moderator_intro": "A new comment on {site} needs a decision.",
    "digest_intro": "These comments on {site} need a decision.",
    "reported_intro": "Readers reported a comment on {site} {count} time(s).",
    "reported_kept": "A moderator approved it: it stays published until you "
    "dismiss the reports or decide again.",
    "reported_open": "No moderator approved it: it stays published unless you decide.",
    "reported_hidden": "No moderator had approved it: the reports took it off the "
    "page until you decide.",
    "reported_reasons": "Reasons",
    "reported_review": "Review it in the Reported tab",
    "edit_intro": "Its author edited a published comment on {site}. Readers see "
    "the published text until a moderator approves the edit.",
    "edit_published": "Published",
    "edit_new": "Edited",
    "edit_decide": "Decide in the queue",
    "on_page": "On",
    "in_reply_to": "In reply to {author}:",
    "why_held": "Why it was held",
    "also": "Also",
    "approve": "Approve",
    "spam": "Spam",
    "reject": "Reject",
    "links_note": "The links open a page where one click decides; they work for "
    "{days} days and once.",
    "settings_note": "You get this mail because of your mail settings: {url}",
    # Readers.
    "confirm_intro": "Someone (hopefully you) asked to hear about replies to "
    "comments on {site} with this address. Nothing more is sent until you confirm.",
    "confirm_pages": "It covers replies on these pages only:",
    "confirm_more": "and {count} more, which it does not cover: once you "
    "confirm, you hear about each of them with a one-click undo.",
    "confirm_button": "Confirm",
    "confirm_ignore": "If this was not you, ignore this mail: nothing more will "
    "be sent.",
    "reply_intro": "{author} replied to your comment on {title}.",
    "approved_intro": "Your comment on {title} is published.",
    "your_comment": "Your comment:",
    "their_reply": "The reply:",
    "read_it": "Read it on the page",
    "unsubscribe_thread": "Stop mail about this page",
    "notice_intro": "You will now get mail about replies to your comments on "
    "{title}: a comment was posted there with this address and the box ticked.",
    "notice_undo": "If that was not you, or you do not want this mail, one "
    "click undoes it",
    "unsubscribe_all": "Stop all mail from {site}",
    "sign_in_intro": "Someone (hopefully you) asked to sign in to comment on "
    "{site} with this address.",
    "sign_in_button": "Sign in",
    "sign_in_note": "The link works once, for {minutes} minutes. If this was not "
    "you, ignore this mail: nobody is signed in without it.",
    # Pages.
    "page_decide_title": "{action} this comment?",
    "page_decide_done": "Done: the comment is {status}.",
    "page_decided_already": "This comment was already decided{by}: it is {status}.",
    "page_link_expired": "This link has expired. Decide in the moderation queue.",
    "page_link_invalid": "This link is not valid: it may have been cut short "
    "when it was copied.",
    "page_not_allowed": "This link's moderator may no longer decide on this "
    "site's comments (the account was deactivated or the site taken away).",
    "page_link_revoked": "This link was made before its moderator's sessions "
    "ended or password changed, so it no longer works. Decide in the moderation "
    "queue.",
    "page_confirm_title": "Confirm mail about replies?",
    "page_confirmed": "Thank you: you will hear about replies.",
    "page_confirm_after_stop": "You stopped all mail from {site} after this link "
    "was sent, so nothing changed.",
    "resume_offer": "Changed your mind? Start mail from {site} again",
    "resume_title": "Get mail from {site} again?",
    "resume_intro": "Mail about replies on the pages you chose on {site} will "
    "start again. Ticking the box with a comment does not do this: only a link "
    "mailed to you does.",
    "resume_button": "Start mail again",
    "page_resumed": "Done: mail from {site} starts again.",
    "page_unsubscribe_title": "Stop this mail?",
    "page_unsubscribed_thread": "Done: no more mail about this page.",
    "page_unsubscribed_all": "Done: no more mail from {site}.",
    "confirm_expired": "This confirmation link has expired: tick the box again "
    "with your next comment.",
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
