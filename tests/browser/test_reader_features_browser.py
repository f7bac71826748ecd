"""The reader features in Chromium: reporting a comment, editing and deleting
one's own within the window, a permalink to a comment on a later page, replies
nested no deeper than the site says at 320 px, and the reader's order."""

import sqlalchemy as sa
from factories import make_comment, make_site
from playwright.sync_api import expect

from commentsvc.comments import revisions
from commentsvc.extensions import db
from commentsvc.models import (
    Comment,
    CommentReport,
    CommentRevision,
    CommentStatus,
    Role,
)
from commentsvc.moderation.accounts import create_moderator


def test_a_reader_reports_a_comment_with_an_explanation(service, article, page):
    server = service()
    with server.app.app_context():
        site = make_site(allowed_origins=[article.origin])
        make_comment(site, author="Ann", body="Something unlawful")
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(article.add(server, "news"))
    root = page.locator("#comments")
    ann = root.locator("li", has_text="Something unlawful")
    expect(ann.get_by_role("button", name="Report")).to_be_visible()
    # The reader features are not part of the first render.
    assert not [url for url in requests if "embed-extra.js" in url]

    ann.get_by_role("button", name="Report").click()
    ann.get_by_role("radio", name="Illegal content").check()
    ann.get_by_role("button", name="Send report").click()
    expect(ann.get_by_role("status")).to_have_text(
        "Please explain why this content is illegal."
    )
    ann.get_by_role("textbox", name="Explanation").fill("It names a protected witness.")
    ann.get_by_role("button", name="Send report").click()
    expect(ann.get_by_role("status")).to_have_text(
        "Thank you: the moderators will look at this comment."
    )
    with server.app.app_context():
        (report,) = db.session.scalars(sa.select(CommentReport))
        assert (report.reason, report.explanation) == (
            "illegal",
            "It names a protected witness.",
        )
        assert report.token_hash  # the browser's token, hashed


def test_a_network_that_reports_often_solves_the_captcha_in_the_report_form(
    service, article, page
):
    server = service(CAPTCHA_DEV_ENABLED=True, REPORT_CAPTCHA_AFTER=1)
    with server.app.app_context():
        site = make_site(allowed_origins=[article.origin])
        make_comment(site, author="Ann", body="First remark")
        make_comment(site, author="Bob", body="Second remark")
        site.captcha_provider = "dev"  # after the comments: they posted without
        db.session.commit()
    page.goto(article.add(server, "news"))
    root = page.locator("#comments")
    ann = root.locator("li", has_text="First remark")
    ann.get_by_role("button", name="Report").click()
    ann.get_by_role("button", name="Send report").click()
    expect(ann.get_by_role("status")).to_have_text(
        "Thank you: the moderators will look at this comment."
    )

    # The network's second report in the hour needs the captcha.
    bob = root.locator("li", has_text="Second remark")
    bob.get_by_role("button", name="Report").click()
    bob.get_by_role("radio", name="Abuse or harassment").check()
    bob.get_by_role("textbox", name="Explanation").fill("Insults a named person.")
    bob.get_by_role("button", name="Send report").click()
    expect(bob.get_by_role("status")).to_have_text(
        "Please solve the captcha, then send the report again. What you wrote is kept."
    )
    expect(bob.get_by_role("textbox", name="Explanation")).to_have_value(
        "Insults a named person."
    )
    widget = page.locator('[slot^="report-captcha-"]')
    expect(widget.get_by_label("I'm not a robot")).to_be_visible()
    widget.get_by_label("I'm not a robot").check()  # sends by itself once ticked
    expect(bob.get_by_role("status")).to_have_text(
        "Thank you: the moderators will look at this comment."
    )
    expect(widget).to_have_count(0)
    with server.app.app_context():
        reasons = db.session.scalars(
            sa.select(CommentReport.explanation).order_by(CommentReport.id)
        ).all()
        assert reasons == [None, "Insults a named person."]


def test_an_author_edits_and_deletes_their_comment_within_the_window(
    service, article, page
):
    server = service(API_CACHE_MAX_AGE=0)  # the reload below reads afresh
    with server.app.app_context():
        make_site(min_submit_seconds=0, allowed_origins=[article.origin])
    url = article.add(server, "news")
    page.goto(url)
    root = page.locator("#comments")
    expect(root.get_by_role("heading", name="No comments yet")).to_be_visible()
    root.get_by_role("textbox", name="Comment").fill("Teh first comment")
    root.get_by_role("textbox", name="Name").fill("Ann")
    root.get_by_role("button", name="Post Comment").click()
    mine = root.locator("li.mine")
    expect(mine).to_contain_text("Your comment is awaiting moderation.")
    # A new comment has no edit waiting (it once said so: no edit's words,
    # undefined, equal to no published words, undefined).
    expect(mine).not_to_contain_text("Your edit awaits moderation.")
    # Said once, and the empty thread's heading is gone.
    expect(root.get_by_text("Your comment is awaiting moderation.")).to_have_count(1)
    expect(root.get_by_text("No comments yet")).to_have_count(0)

    # Published meanwhile: after a reload it is in the listing, still editable
    # from this browser.
    with server.app.app_context():
        db.session.execute(sa.update(Comment).values(status=CommentStatus.APPROVED))
        db.session.commit()
    page.reload()
    ann = root.locator("li", has_text="Teh first comment")
    expect(ann.get_by_role("button", name="Report")).to_have_count(0)
    ann.get_by_role("button", name="Edit").click()
    editor = ann.get_by_role("textbox", name="Your comment")
    expect(editor).to_have_value("Teh first comment")
    editor.fill("The first comment")
    ann.get_by_role("button", name="Save").click()
    # Published means a moderator approved these words: the edit waits, and
    # its author is told so; the published text stays.
    expect(ann).to_contain_text("Your edit awaits moderation.")
    expect(ann).to_contain_text("Teh first comment")
    with server.app.app_context():
        (comment,) = db.session.scalars(sa.select(Comment))
        assert comment.body == "Teh first comment"
        (revision,) = db.session.scalars(sa.select(CommentRevision))
        boss = create_moderator("boss", "correct horse battery", role=Role.ADMIN)
        revisions.decide(boss, revision.id, revision.version, approve=True)
    page.reload()
    edited = root.locator("li", has_text="The first comment")
    expect(edited).to_contain_text("(edited)")
    expect(edited).not_to_contain_text("Your edit awaits moderation.")
    with server.app.app_context():
        (comment,) = db.session.scalars(sa.select(Comment))
        assert comment.body == "The first comment"
        assert comment.status == CommentStatus.APPROVED and comment.edited_at

    page.once("dialog", lambda dialog: dialog.accept())
    edited.get_by_role("button", name="Delete").click()
    expect(root.get_by_role("heading", name="No comments yet")).to_be_visible()
    with server.app.app_context():
        (comment,) = db.session.scalars(sa.select(Comment))
        assert comment.status == CommentStatus.DELETED


def test_a_permalink_loads_later_pages_and_deep_replies_keep_half_the_column(
    service, article, page
):
    server = service(LISTING_PAGE_SIZE=2)
    with server.app.app_context():
        site = make_site(allowed_origins=[article.origin], max_reply_depth=8)
        parent = make_comment(site, author="R0", body="Level 0")
        for level in range(1, 11):
            parent = make_comment(
                site, author=f"R{level}", body=f"Level {level}", parent_id=parent.id
            )
        for n in range(4):
            target = make_comment(site, author=f"T{n}", body=f"Top {n}")
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(article.add(server, "news") + f"#comment-{target.id}")
    root = page.locator("#comments")

    # On the third page: loaded, scrolled to and highlighted.
    linked = root.locator(f"#comment-{target.id}")
    expect(linked).to_have_class("hl")
    expect(linked).to_be_in_viewport()
    expect(linked).to_be_focused()
    expect(root.locator("li", has_text="Top 0")).to_be_attached()

    # Eight levels nested; levels 9 and 10 join the eighth and say whom they
    # answer.
    deepest = root.locator("li", has_text="Level 10").last
    expect(deepest).to_contain_text("in reply to R9")
    expect(root.locator("li", has_text="Level 9").last).to_contain_text(
        "in reply to R8"
    )
    nesting = deepest.evaluate("el => { let n = 0; while ((el = el.parentElement)) "
                               "n += el.tagName === 'OL'; return n; }")  # fmt: skip
    assert nesting == 9  # the top-level list and eight levels of replies
    width = root.evaluate("el => el.getBoundingClientRect().width")
    text = deepest.locator(".body").evaluate("el => el.getBoundingClientRect().width")
    assert text >= width / 2, (text, width)

    # The reader's order: newest first, remembered on the next visit.
    root.get_by_role("combobox", name="Order of comments").select_option("newest")
    expect(root.locator(".who").first).to_have_text("T3")
    page.reload()
    expect(root.get_by_role("combobox")).to_have_value("newest")
    expect(root.locator(".who").first).to_have_text("T3")
