"""The rules of commentsvc.accounts.moderation, called as the CLI or another
view would: reasons required where the reader is shown them, moderators' own
staff accounts left alone, nothing changed on a refusal."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from factories import make_site

from commentsvc import accounts
from commentsvc.accounts import moderation as rules
from commentsvc.comments.access import NotAllowed
from commentsvc.comments.errors import ValidationFailed
from commentsvc.extensions import db
from commentsvc.models import AuditEntry, Role, utcnow
from commentsvc.moderation.accounts import create_moderator


@pytest.fixture
def setting(app_context):
    site = make_site()
    make_site("blog", "A Blog", allowed_origins=["https://blog.example"])
    admin = create_moderator("boss", "correct horse battery", role=Role.ADMIN)
    blogger = create_moderator("blogger", "correct horse battery", site_slugs=["blog"])
    account = accounts.find_or_create(site.id, "sso", "u-1", "Sam")
    db.session.commit()
    return site, admin, blogger, account


def _entries() -> int:
    """Audit entries about readers' accounts."""
    return db.session.scalar(
        sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.kind.like("reader.%"))
    )


@pytest.mark.parametrize("reason", [None, "", "   ", "x" * 501])
def test_a_ban_needs_a_reason_the_reader_can_read(setting, reason):
    _, admin, _, account = setting

    with pytest.raises(ValidationFailed) as refused:
        rules.ban(admin, account, reason)

    assert "reason" in refused.value.fields
    db.session.rollback()
    assert account.banned is False and _entries() == 0


def test_a_suspension_needs_a_reason(setting):
    _, admin, _, account = setting

    with pytest.raises(ValidationFailed):
        rules.suspend(admin, account, utcnow() + timedelta(days=1), "")

    assert account.suspended_until is None


def test_a_moderator_of_another_site_is_refused(setting):
    _, _, blogger, account = setting

    with pytest.raises(NotAllowed):
        rules.ban(blogger, account, "Spam")
    with pytest.raises(NotAllowed):
        rules.set_staff(blogger, account, True)


def test_a_moderator_s_staff_account_is_left_alone(setting):
    site, admin, _, _ = setting
    reader = accounts.staff_reader(site.id, admin)
    staff = rules.account_for(admin, reader.account_id)

    for act in (
        lambda: rules.ban(admin, staff, "no"),
        lambda: rules.suspend(admin, staff, utcnow() + timedelta(days=1), "no"),
        lambda: rules.set_staff(admin, staff, False),
    ):
        with pytest.raises(accounts.StaffAccountRefused):
            act()
    assert (staff.banned, staff.suspended_until, staff.staff) == (False, None, True)


def test_lift_and_unban_say_when_there_was_nothing_to_do(setting):
    _, admin, _, account = setting

    assert rules.lift(admin, account) is False
    assert rules.unban(admin, account) is False
    assert _entries() == 0
