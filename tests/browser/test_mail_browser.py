"""The mail flow in Chromium: a reader ticks "Notify me of replies" in the
embed, the real worker mails the moderator and the reader (aiosmtpd), and the
links' pages work in a browser: confirm, then approve with one click."""

from urllib.parse import urlsplit

import sqlalchemy as sa
from factories import make_site
from playwright.sync_api import expect
from smtp_sink import SmtpSink

from commentsvc.extensions import db
from commentsvc.models import Comment, CommentStatus, MailRecipient
from commentsvc.moderation.accounts import create_moderator

PUBLIC_URL = "http://comments.invalid"


def links_in(message) -> dict[str, str]:
    text = message.get_body(("plain",)).get_content()
    return {
        line.split(": ", 1)[0]: urlsplit(line.split(": ", 1)[1]).path
        for line in text.splitlines()
        if ": " + PUBLIC_URL in line
    }


def test_a_reader_subscribes_in_the_embed_and_the_moderator_approves_by_mail(
    service, article, page
):
    smtp = SmtpSink()
    smtp.start()
    try:
        server = service(
            MAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
            MAIL_FROM="comments@news.example",
            PUBLIC_URL=PUBLIC_URL,
        )
        with server.app.app_context():
            make_site(allowed_origins=[article.origin], min_submit_seconds=0)
            create_moderator(
                "mod", "a long password", site_slugs=["news"], email="mod@news.example"
            )
        page.goto(article.add(server, "news"))
        embed = page.locator("#comments")
        notify = embed.get_by_label("Notify me of replies by email")
        embed.get_by_role("textbox", name="Comment").fill("Mail me, please.")
        embed.get_by_role("textbox", name="Name").fill("Ann Reader")
        expect(notify).to_be_hidden()  # only once an email is given
        embed.get_by_role("textbox", name="Email").fill("ann@example.org")
        notify.check()
        # The box sits beside its words on one line, not stretched to the
        # column's width above them (a full-width input rule once caught it).
        box = notify.bounding_box()
        words = embed.get_by_text("Notify me").bounding_box()
        middle = box["y"] + box["height"] / 2
        assert box["width"] < 40, box
        assert abs(middle - (words["y"] + words["height"] / 2)) < 10, (box, words)
        embed.get_by_role("button", name="Post Comment").click()
        expect(embed.locator("li.mine")).to_contain_text("awaiting moderation")

        result = server.app.test_cli_runner().invoke(args=["mail", "worker", "--once"])
        assert "2 sent" in result.output, result.output
        [confirm] = smtp.to("ann@example.org")
        [decide] = smtp.to("mod@news.example")

        page.goto(server.url + links_in(confirm)["Confirm"])
        page.get_by_role("button", name="Confirm").click()
        expect(page.get_by_text("you will hear about replies")).to_be_visible()

        page.goto(server.url + links_in(decide)["Approve"])
        expect(page.get_by_text("Mail me, please.")).to_be_visible()
        page.get_by_role("button", name="Approve").click()
        expect(page.get_by_text("Done: the comment is approved.")).to_be_visible()
        with server.app.app_context():
            assert db.session.scalar(sa.select(Comment.status)) == (
                CommentStatus.APPROVED
            )
            assert db.session.scalar(sa.select(MailRecipient.confirmed_at))
    finally:
        smtp.stop()
