"""The audit trail in a browser: from an entry to the comment's page, from there
to the queue; the audit, comment and bans pages pass axe's checks."""

import sqlalchemy as sa
from axe_playwright_python.sync_playwright import Axe
from factories import make_comment, make_site
from playwright.sync_api import expect

from commentsvc.comments.bans import ban_from_comment
from commentsvc.comments.moderation import Target, moderate
from commentsvc.extensions import db
from commentsvc.models import BanKind, CommentStatus, Moderator, Role, Site
from commentsvc.moderation.accounts import create_moderator

PASSWORD = "correct horse battery"


def _serious(page, selector) -> list[str]:
    found = Axe().run(page, context=selector).response["violations"]
    return [
        f"{v['id']}: {[n['target'] for n in v['nodes']]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def test_from_the_trail_to_the_comment_and_the_queue(service, page):
    server = service()
    with server.app.app_context():
        make_site()
        news = db.session.scalar(sa.select(Site).where(Site.slug == "news"))
        comment = make_comment(
            news,
            thread="/story",
            status=CommentStatus.PENDING,
            author="Troll",
            email="troll@example.org",
            body="buy now",
        )
        boss = create_moderator("boss", PASSWORD, role=Role.ADMIN)
        moderate(boss, [Target(comment.id, comment.version)], CommentStatus.SPAM)
        ban_from_comment(
            db.session.get(Moderator, boss.id),
            db.session.get(type(comment), comment.id),
            BanKind.EMAIL,
            reason="spammer",
        )
        comment_id = comment.id

    page.goto(server.url + "/moderation/audit")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/moderation/audit")
    rows = page.locator("table.records tbody tr")
    expect(rows.first).to_contain_text("Banned")
    assert _serious(page, "table.records") == []

    page.get_by_role("link", name=f"comment #{comment_id} by Troll").first.click()
    page.wait_for_url(f"**/moderation/comments/{comment_id}")
    expect(page.locator("h1 .badge.status-spam")).to_have_text("spam")
    expect(page.locator("table.records")).to_contain_text("from pending to spam")
    assert _serious(page, "body") == []

    page.get_by_role("button", name="Open in the queue").click()
    page.wait_for_url("**/moderation/queue?**")
    expect(page.locator("article.comment")).to_contain_text("buy now")

    page.goto(server.url + "/moderation/bans")
    expect(page.locator("table.records")).to_contain_text("Example News")
    assert _serious(page, "table.records") == []
