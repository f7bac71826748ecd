"""A Disqus export read as a stream, in two passes over the file.

Disqus lists ``<thread dsq:id>`` elements (``<link>``, ``<title>``, ``<id>``:
the identifier the site gave Disqus) and ``<post dsq:id>`` elements that point
at them (``<thread dsq:id>``), optionally at a parent post (``<parent
dsq:id>``), with ``<isSpam>``, ``<isDeleted>``, ``<author>`` (``<name>``,
``<email>``, ``<username>``), ``<ipAddress>``, ``<createdAt>`` and HTML in
``<message>``. Posts may come before their threads and their parents: the first
pass reads the threads (kept in memory: a few hundred bytes each), the second
the posts; parents are resolved by the writer once everything is stored.
"""

from collections.abc import Iterator

from ..models import CommentStatus
from .clean import parse_bool, parse_date
from .keys import ThreadKeys
from .records import CommentIn, Skipped, ThreadIn
from .text import html_to_text
from .xmlstream import BadImportFile, Meter, attribute, children, events, local

SOURCE = "disqus"
# What a thread or a post reads from its children, and a post from its
# author's (the rest is freed once read).
FIELDS = frozenset(
    {
        "id",
        "link",
        "title",
        "message",
        "createdAt",
        "isSpam",
        "isDeleted",
        "isApproved",
        "ipAddress",
        "author",
        "name",
        "email",
        "username",
        "thread",
        "parent",
    }
)


def status_of(fields: dict) -> CommentStatus:
    """Spam first, then deleted, then (rarely exported) not approved."""
    if parse_bool(fields.get("isSpam")):
        return CommentStatus.SPAM
    if parse_bool(fields.get("isDeleted")):
        return CommentStatus.DELETED
    if fields.get("isApproved", "").strip().lower() == "false":
        return CommentStatus.PENDING
    return CommentStatus.APPROVED


def _top_level(path, meter, wanted: str):
    """The root's children named *wanted*, each complete (freed after)."""
    checked = False
    for event, element, stack in events(path, meter, fields=FIELDS):
        if event == "start":
            if not checked:
                checked = True
                if local(element.tag) != "disqus":
                    raise BadImportFile(
                        "not a Disqus export: the root element is "
                        f"<{local(element.tag)}>"
                    )
            continue
        if len(stack) != 1:
            continue
        if local(element.tag) == wanted:
            yield element


def read_threads(path, keys: ThreadKeys, meter=None) -> dict[str, ThreadIn]:
    threads = {}
    for element in _top_level(path, meter, "thread"):
        ident = attribute(element, "id")
        if not ident:
            continue
        fields = children(element)
        link = fields.get("link", "").strip()
        threads[ident] = ThreadIn(
            key=keys.key(link, fields.get("id")),
            url=link,
            title=fields.get("title", "").strip() or None,
        )
    return threads


def post_from(element, threads: dict[str, ThreadIn]) -> CommentIn | Skipped:
    ident = attribute(element, "id")
    if not ident:
        return Skipped("post without dsq:id")
    fields, author, thread_id, parent_id = {}, {}, None, None
    for child in element:
        name = local(child.tag)
        if name == "author":
            author = children(child)
        elif name == "thread":
            thread_id = attribute(child, "id")
        elif name == "parent":
            parent_id = attribute(child, "id")
        else:
            fields[name] = child.text or ""
    thread = threads.get(thread_id or "")
    if thread is None:
        return Skipped("post of a thread the file does not list")
    created_at = parse_date(fields.get("createdAt"))
    if created_at is None:
        return Skipped("post without a readable date")
    status = status_of(fields)
    body = html_to_text(fields.get("message", ""))
    if not body and status == CommentStatus.DELETED:
        body = "[deleted]"  # keeps its replies under it
    return CommentIn(
        key=f"{SOURCE}:{ident}",
        thread=thread,
        parent_key=f"{SOURCE}:{parent_id}" if parent_id else None,
        author=(author.get("name") or author.get("username") or "").strip(),
        body=body,
        status=status,
        created_at=created_at,
        page_title=thread.title,
        email=author.get("email"),
        ip=fields.get("ipAddress"),
        signals={"import": {"source": SOURCE, "id": ident}},
    )


def read(
    path, keys: ThreadKeys, meter: Meter | None = None
) -> Iterator[CommentIn | Skipped]:
    """The posts of the Disqus export *path*, one at a time.

    Raises:
        BadImportFile: not a Disqus export, or unsafe or broken XML.
    """
    threads = read_threads(path, keys, meter)
    for element in _top_level(path, meter, "post"):
        yield post_from(element, threads)
