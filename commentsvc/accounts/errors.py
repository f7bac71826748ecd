"""What signing in can refuse; the API turns each into its envelope."""

from datetime import datetime


class SignInRefused(PermissionError):
    """A reader's identity was refused; ``code`` names the envelope (403 unless
    ``status`` says otherwise) and ``message`` the sentence the reader sees."""

    code = "sign_in_refused"
    status = 403
    message = "Your sign-in was refused."

    def __init__(self, message: str | None = None):
        super().__init__(message or self.message)
        if message:
            self.message = message

    def extra(self) -> dict:
        return {}


class SsoInvalid(SignInRefused):
    """The site's token is malformed, badly signed, or for another site."""

    code = "sso_invalid"
    message = (
        "This page's sign-in could not be checked: reload the page or sign in "
        "again. Your comment is kept."
    )


class SsoExpired(SignInRefused):
    """The site's token is past its expiry."""

    code = "sso_expired"
    message = (
        "Your sign-in on this page has expired: reload the page to sign in again. "
        "Your comment is kept."
    )


class SessionInvalid(SignInRefused):
    """The bearer session is unknown, ended or expired."""

    code = "session_invalid"
    status = 401
    message = "Your sign-in has ended: sign in again. Your comment is kept."


class SignInRequired(SignInRefused):
    """The site takes comments only from signed-in readers."""

    code = "sign_in_required"
    message = "Please sign in to comment on this site. Your comment is kept."


class AccountBanned(SignInRefused):
    """A moderator banned the account."""

    code = "account_banned"
    message = "Your account may no longer comment on this site."

    def __init__(self, reason: str | None):
        super().__init__()
        self.reason = reason

    def extra(self) -> dict:
        return {"reason": self.reason}


class AccountSuspended(SignInRefused):
    """A moderator suspended the account until ``until``."""

    code = "account_suspended"
    message = "Your account is suspended from commenting until {until}."

    def __init__(self, until: datetime, reason: str | None):
        when = until.strftime("%Y-%m-%d %H:%M UTC")
        super().__init__(self.message.format(until=when))
        self.until = until
        self.reason = reason

    def extra(self) -> dict:
        from ..models import iso8601

        return {"until": iso8601(self.until), "reason": self.reason}
