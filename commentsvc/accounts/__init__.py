"""Readers who sign in: the site's own accounts (SSO tokens), e-mail links and
OpenID Connect, their sessions, and the trust their accounts earn.

The one door: the API, the pages and the moderation UI import from here.
"""

from . import moderation
from .configure import rotate_sso_secret
from .configure import update as update_sign_in
from .errors import (
    AccountBanned,
    AccountSuspended,
    SessionInvalid,
    SignInRefused,
    SignInRequired,
    SsoExpired,
    SsoInvalid,
)
from .links import FRAGMENT, back_to, safe_return
from .moderation import StaffAccountRefused, UnknownAccount
from .readers import (
    Reader,
    account_of,
    check_standing,
    find_or_create,
    reader_for_post,
)
from .settings import change as change_settings
from .settings import sign_in_settings
from .staff import staff_reader
from .trust import judge, judge_account

__all__ = [
    "FRAGMENT",
    "back_to",
    "safe_return",
    "AccountBanned",
    "AccountSuspended",
    "Reader",
    "account_of",
    "SessionInvalid",
    "SignInRefused",
    "SignInRequired",
    "SsoExpired",
    "SsoInvalid",
    "change_settings",
    "check_standing",
    "find_or_create",
    "judge",
    "judge_account",
    "reader_for_post",
    "sign_in_settings",
    "moderation",
    "rotate_sso_secret",
    "staff_reader",
    "StaffAccountRefused",
    "UnknownAccount",
    "update_sign_in",
]
