"""A WordPress export (WXR 1.0 to 1.2) read as a stream.

Each ``<item>`` (a post or page) is a thread: its ``<link>`` and ``<title>``.
Its ``<wp:comment>`` children are comments: ``wp:comment_id``,
``wp:comment_parent`` (0 for a top-level comment), ``wp:comment_approved``,
``wp:comment_type``, ``wp:comment_author``/``_email``/``_IP``,
``wp:comment_date_gmt`` (else ``wp:comment_date``, taken as UTC), and the body,
HTML, in ``wp:comment_content``.
"""

from collections.abc import Iterator

from ..inputrules import http_url_problem
from ..models import CommentStatus
from .clean import parse_date
from .keys import ThreadKeys
from .records import CommentIn, Skipped, ThreadIn
from .text import html_to_text
from .xmlstream import BadImportFile, Meter, children, events, local

SOURCE = "wordpress"

STATUSES = {
    "1": CommentStatus.APPROVED,
    "approve": CommentStatus.APPROVED,
    "0": CommentStatus.PENDING,
    "hold": CommentStatus.PENDING,
    "spam": CommentStatus.SPAM,
    "trash": CommentStatus.DELETED,
    "post-trashed": CommentStatus.DELETED,
}
PINGS = ("pingback", "trackback")
# What a comment reads from its children (the rest is freed once read).
FIELDS = frozenset(
    {
        "comment_id",
        "comment_parent",
        "comment_approved",
        "comment_type",
        "comment_author",
        "comment_author_email",
        "comment_author_url",
        "comment_author_IP",
        "comment_date",
        "comment_date_gmt",
        "comment_content",
    }
)


def _is_wp(tag: str) -> bool:
    return tag.startswith("{http://wordpress.org/export/")


def comment_from(
    fields: dict, thread: ThreadIn, keep_pingbacks: bool
) -> CommentIn | Skipped:
    ident = fields.get("comment_id", "").strip()
    if not ident:
        return Skipped("comment without wp:comment_id")
    kind = fields.get("comment_type", "").strip().lower()
    if kind in PINGS and not keep_pingbacks:
        return Skipped(kind)
    if kind not in ("", "comment", *PINGS):
        return Skipped(f"comment of type {kind[:40]!r}")
    created_at = parse_date(fields.get("comment_date_gmt")) or parse_date(
        fields.get("comment_date")
    )
    if created_at is None:
        return Skipped("comment without a readable date")
    status = STATUSES.get(fields.get("comment_approved", "").strip().lower())
    status = status or CommentStatus.PENDING
    body = html_to_text(fields.get("comment_content", ""))
    if not body and status == CommentStatus.DELETED:
        body = "[deleted]"  # keeps its replies under it
    parent = fields.get("comment_parent", "").strip()
    signals = {"import": {"source": SOURCE, "id": ident}}
    if kind in PINGS:
        signals["import"]["type"] = kind
    author_url = fields.get("comment_author_url", "").strip()[:500]
    # Kept as it came, only if it is a link the API would take.
    if author_url and not http_url_problem(author_url):
        signals["import"]["author_url"] = author_url
    return CommentIn(
        key=f"{SOURCE}:{ident}",
        thread=thread,
        parent_key=f"{SOURCE}:{parent}" if parent and parent != "0" else None,
        author=fields.get("comment_author", ""),
        body=body,
        status=status,
        created_at=created_at,
        page_title=thread.title,
        email=fields.get("comment_author_email"),
        ip=fields.get("comment_author_IP"),
        signals=signals,
    )


def read(
    path, keys: ThreadKeys, keep_pingbacks: bool = False, meter: Meter | None = None
) -> Iterator[CommentIn | Skipped]:
    """The comments of the WXR file *path*, one at a time.

    Raises:
        BadImportFile: not a WordPress export, or unsafe or broken XML.
    """
    item: dict | None = None
    thread: ThreadIn | None = None
    checked = False
    for event, element, stack in events(path, meter, fields=FIELDS):
        name = local(element.tag)
        if not checked and event == "start":
            checked = True
            if name != "rss":
                raise BadImportFile(
                    f"not a WordPress export (WXR): the root element is <{name}>"
                )
            continue
        if event == "start":
            if name == "item":
                item, thread = {}, None
            continue
        parent = stack[-1] if stack else None
        if parent is not None and local(parent.tag) == "item" and item is not None:
            if name == "comment" and _is_wp(element.tag):
                if thread is None:
                    link = item.get("link") or item.get("guid") or ""
                    thread = ThreadIn(
                        key=keys.key(link, item.get("post_id")),
                        url=link,
                        title=item.get("title") or None,
                    )
                yield comment_from(children(element), thread, keep_pingbacks)
            elif name in ("title", "link", "guid", "post_id"):
                item[name] = (element.text or "").strip()
        elif name == "item":
            item = None
