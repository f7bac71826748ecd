"""The nudge in Chromium: a comment likely to be rejected, on a site that asks
readers to reconsider, shows the site's message with "Edit" (the text kept,
the reader back in it) and "Post anyway" (stored for a moderator, with the
captcha the reader already solved)."""

import sqlalchemy as sa
from factories import make_site
from playwright.sync_api import expect

from commentsvc.extensions import db
from commentsvc.models import Comment, CommentStatus

from .test_embed_browser import AWAITING, Embed

INSULT = "You are all idiots, shut this paper down."
NUDGE = (
    "Your comment may break this site's rules. Edit it, or post it anyway for "
    "a moderator to decide."
)


def test_post_then_edit_then_post_anyway(service, article, page):
    server = service(CAPTCHA_DEV_ENABLED=True)
    with server.app.app_context():
        make_site(
            min_submit_seconds=0,
            allowed_origins=[article.origin],
            captcha_provider="dev",
            reject_nudge=True,
        )
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(article.add(server, "news"))
    embed = Embed(page)
    embed.write(INSULT)
    embed.tick()
    embed.post.click()

    nudge = embed.root.get_by_role("alert")
    expect(nudge).to_contain_text(NUDGE)
    expect(nudge).to_contain_text("“idiots”")
    with server.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Comment.id))) == 0

    # Edit: the text is kept and the reader is back in it.
    nudge.get_by_role("button", name="Edit").click()
    expect(nudge).to_have_count(0)
    expect(embed.comment).to_be_focused()
    expect(embed.comment).to_have_value(INSULT)

    # Posted again as it is: asked again; then posted anyway, with the same
    # ticked captcha (the 409 spent nothing).
    embed.post.click()
    embed.root.get_by_role("button", name="Post anyway").click()
    expect(embed.mine).to_contain_text(AWAITING)
    expect(embed.comment).to_have_value("")
    with server.app.app_context():
        (comment,) = db.session.scalars(sa.select(Comment))
        assert comment.status == CommentStatus.PENDING
        assert comment.signals["held"]["likely_rejected"] >= 0.8
        assert comment.signals["captcha"]["outcome"] == "ok"
    posts = [url for url in requests if url.endswith("/comments")]
    assert len(posts) >= 3
