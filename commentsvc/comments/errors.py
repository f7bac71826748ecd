"""Errors the comments domain raises; the API and the UI translate them."""


class SiteNotFound(LookupError):
    """No site has the given slug."""


class ValidationFailed(ValueError):
    """A submission broke a rule; ``fields`` maps each field to its message."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


class ThreadNotFound(LookupError):
    """The site has no thread with the given key (no comment was ever posted)."""


class ThreadClosed(PermissionError):
    """The thread takes no new comments (a moderator closed it, or its site
    closes threads some days after their first comment)."""


class MayBreakRules(Exception):
    """The site asks the reader to reconsider a comment that is likely to be
    rejected (reject_nudge), before anything is stored or spent; ``words`` are
    the words that pushed it. Sent again with ``post_anyway``, it is stored."""

    def __init__(self, words: list[str]):
        super().__init__("the comment may break the site's rules")
        self.words = words
