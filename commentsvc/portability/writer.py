"""The one door through which imported threads and comments are stored.

Parsers (wordpress, disqus, native) turn a file into a stream of
:class:`ThreadIn`, :class:`CommentIn` and :class:`Skipped`; :class:`ImportWriter`
stores them in batches, a transaction per batch, on a connection of its own:

- a comment is inserted with its source's id as ``import_key`` (unique per
  site), ``ON CONFLICT DO NOTHING``: importing a file again adds nothing;
- replies are inserted top-level first and the link to their parent is kept in
  a temporary table; at the end the links are resolved by source id, in chunks,
  with ``root_id`` set as the listing expects (migration 0006). A parent may come
  anywhere in the file, before or after its replies. A reply whose parent is not
  there (not in the file, skipped, in another thread, or in a loop) stays a
  top-level comment, and the summary says how many;
- threads are created on their first comment (a thread of our own export also
  when it has none); a thread's ``created_at`` ends as its first comment's date;
- no webhook event is written (an import is not news) and no mail is sent; the
  public listings of the threads touched are invalidated after the commit.

Memory: a batch, a chunk of links, and one small entry per thread touched.
"""

from collections import OrderedDict
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..comments.cache import invalidate
from ..comments.render import render_body
from ..comments.service import MAX_HTML_BYTES
from ..comments.threads import forget_cached
from ..extensions import db
from ..inputrules import (
    MAX_NAME,
    email_problem,
    http_url_problem,
    name_problem,
    text_problem,
)
from ..models import Comment, Site, Thread, as_utc
from ..spam.rules import body_digest
from . import links
from .clean import checked, clean_ip, clip
from .records import (
    REFUSED_EMAIL,
    REFUSED_LINK,
    REFUSED_NAME,
    REFUSED_TITLE,
    CommentIn,
    Skipped,
    Summary,
    ThreadIn,
)

__all__ = ["CommentIn", "ImportWriter", "Skipped", "Summary", "ThreadIn"]

BATCH = 1000
# Above this many threads touched, the whole site's cached reads are dropped
# rather than each thread's.
INVALIDATE_ONE_BY_ONE = 200
ANONYMOUS = "Anonymous"
# The source name of our own export's keys ("commentsvc:<id>").
NATIVE = "commentsvc"

_comments = Comment.__table__
_threads = Thread.__table__
# Built once: run for every thread.
_FIND_THREAD = sa.select(_threads.c.id, _threads.c.title).where(
    _threads.c.site_id == sa.bindparam("site_id"), _threads.c.key == sa.bindparam("key")
)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


class ImportWriter:
    """Stores what a parser yields into *site*; use as a context manager, then
    :meth:`finish` for the summary."""

    def __init__(self, site: Site, batch_size: int = BATCH, on_batch=None):
        self.site_id = site.id
        self.slug = site.slug
        self.batch_size = batch_size
        self.on_batch = on_batch
        self.summary = Summary()
        self._batch: list[tuple[dict, str | None]] = []
        self._threads: OrderedDict[str, int] = OrderedDict()  # LRU: key -> id
        self._touched: dict[int, str] = {}
        self._seq = 0
        self._conn = None

    # -- the connection and its temporary table ---------------------------------
    def __enter__(self):
        self._conn = db.engine.connect()
        dialect = self._conn.dialect.name
        self._pragmas = {}
        if dialect == "sqlite":
            # Indexes take random pages: with SQLite's default 2 MB page cache,
            # each batch reads and rewrites them again and again. In WAL mode
            # synchronous=NORMAL stays consistent; a crash may lose the last
            # batches, which running the import again brings back.
            for name, value in (("cache_size", -65536), ("synchronous", 1)):
                self._pragmas[name] = self._conn.exec_driver_sql(
                    f"PRAGMA {name}"
                ).scalar()
                self._conn.exec_driver_sql(f"PRAGMA {name} = {value}")
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self._insert_thread = (
            self._insert(_threads)
            .on_conflict_do_nothing(index_elements=["site_id", "key"])
            .returning(_threads.c.id, _threads.c.title)
        )
        links.TABLE.drop(self._conn, checkfirst=True)
        links.TABLE.create(self._conn)
        # Rows above this id were made by this import (tells a duplicate id of
        # the file from a comment imported before).
        self._first_new_id = (
            self._conn.execute(sa.select(sa.func.max(_comments.c.id))).scalar() or 0
        )
        self._conn.commit()
        return self

    def __exit__(self, *exc):
        if self._conn is None:
            return
        try:
            self._conn.rollback()
            links.TABLE.drop(self._conn, checkfirst=True)
            self._conn.commit()
            for name, value in self._pragmas.items():  # the pool's defaults
                self._conn.exec_driver_sql(f"PRAGMA {name} = {int(value)}")
        finally:
            self._conn.close()
            self._conn = None
            # Batches committed before a failure are stored: readers see them.
            self._invalidate()

    def _invalidate(self) -> None:
        """Drop the cached reads of the threads touched (after the commits)."""
        if len(self._touched) > INVALIDATE_ONE_BY_ONE:
            invalidate(self.slug)
        else:
            for key in self._touched.values():
                invalidate(self.slug, key)
                forget_cached(self.slug, key)

    # -- what parsers yield -------------------------------------------------------
    def feed(self, item: CommentIn | ThreadIn | Skipped) -> None:
        if isinstance(item, CommentIn):
            self.add(item)
        elif isinstance(item, ThreadIn):
            self._thread_id(item, item.created_at)
        else:
            self.skip(item.reason)

    def skip(self, reason: str) -> None:
        self.summary.skipped[reason] += 1

    def add(self, comment: CommentIn) -> None:
        body = comment.body
        if not body.strip():
            return self.skip("empty body (nothing left once HTML was reduced)")
        body_html = render_body(body)
        if len(body_html.encode()) > MAX_HTML_BYTES:
            return self.skip("body too long once formatted")
        author, refused = checked(comment.author, name_problem, MAX_NAME)
        self._refused(REFUSED_NAME, refused)
        email, refused = checked(comment.email, email_problem)
        self._refused(REFUSED_EMAIL, refused)
        page_title, refused = checked(comment.page_title, text_problem, 300)
        self._refused(REFUSED_TITLE, refused)
        thread = comment.thread
        created_at = _utc(comment.created_at)
        moderated_at = comment.moderated_at and _utc(comment.moderated_at)
        row = {
            "site_id": self.site_id,
            "thread_id": self._thread_id(thread, created_at),
            "parent_id": None,
            "root_id": None,
            "author": author or ANONYMOUS,
            # Lowercased, as the API stores a posted address.
            "email": email and email.lower(),
            "body": body,
            "body_hash": body_digest(body),
            "page_title": page_title,
            "body_html": body_html,
            "status": comment.status,
            "ip": clean_ip(comment.ip),
            "user_agent": clip(comment.user_agent, 512),
            "signals": comment.signals or {},
            "created_at": created_at,
            "moderated_at": moderated_at,
            "edited_at": comment.edited_at and _utc(comment.edited_at),
            "moderated_by_id": None,
            # Decided in the source (our own format keeps it): learned from.
            "decided_status": comment.status if moderated_at else None,
            "decided_body": body if moderated_at else None,
            "import_key": clip(comment.key, 200),
            "version": 1,
        }
        self._batch.append((row, clip(comment.parent_key, 200)))
        if len(self._batch) >= self.batch_size:
            self._flush()

    def _refused(self, what: str, refused: bool) -> None:
        if refused:
            self.summary.refused[what] += 1

    # -- threads ----------------------------------------------------------------
    def _thread_id(self, thread: ThreadIn, first_seen: datetime | None) -> int:
        key = clip(thread.key, 512) or "/"
        found = self._threads.get(key)
        if found is not None:
            self._threads.move_to_end(key)
            return found
        conn = self._conn
        params = {"site_id": self.site_id, "key": key}
        row = conn.execute(_FIND_THREAD, params).first()
        title, refused = checked(thread.title, text_problem, 300)
        if row is None:
            self._refused(REFUSED_TITLE, refused)
            # A link the API would refuse (javascript:…): no link at all.
            url, refused = checked(thread.url, http_url_problem)
            self._refused(REFUSED_LINK, refused)
            created = thread.created_at or first_seen or datetime.now(UTC)
            inserted = conn.execute(
                self._insert_thread,
                {
                    **params,
                    "url": url or "",
                    "title": title,
                    "comments_open": thread.comments_open,
                    "created_at": _utc(created),
                },
            ).first()
            # Nothing inserted: a post made the thread since the select.
            row = inserted or conn.execute(_FIND_THREAD, params).one()
            self.summary.threads_new += inserted is not None
        elif row.title is None and title:
            conn.execute(
                sa.update(_threads).where(_threads.c.id == row.id).values(title=title)
            )
        self._threads[key] = row.id
        if len(self._threads) > 10_000:
            self._threads.popitem(last=False)
        self._touched[row.id] = key
        return row.id

    # -- batches ----------------------------------------------------------------
    def _flush(self) -> None:
        self._drop_own_comments()
        if not self._batch:
            self._conn.commit()
            return
        conn = self._conn
        insert = (
            self._insert(_comments)
            .on_conflict_do_nothing(index_elements=["site_id", "import_key"])
            .returning(_comments.c.import_key)
        )
        inserted = set(conn.execute(insert, [r for r, _ in self._batch]).scalars())
        claimed, conflicts, new_links = set(), [], []

        def link(key, parent_key):
            self._seq += 1
            new_links.append(
                {"seq": self._seq, "child_key": key, "parent_key": parent_key}
            )

        for row, parent_key in self._batch:
            key = row["import_key"]
            if key in inserted and key not in claimed:
                claimed.add(key)
                self.summary.comments[row["status"]] += 1
                if parent_key:
                    link(key, parent_key)
            else:
                conflicts.append((key, parent_key))
        if conflicts:
            stored = {
                r.import_key: r
                for r in conn.execute(
                    sa.select(
                        _comments.c.import_key, _comments.c.id, _comments.c.parent_id
                    ).where(
                        _comments.c.site_id == self.site_id,
                        _comments.c.import_key.in_({k for k, _ in conflicts}),
                    )
                )
            }
            for key, parent_key in conflicts:
                row = stored.get(key)
                if row is not None and row.id > self._first_new_id:
                    self.skip("duplicate id in the file (the first one was kept)")
                    continue
                self.skip("already imported")
                if row is not None and parent_key and row.parent_id is None:
                    # An import that stopped before linking its replies: link
                    # them now.
                    link(key, parent_key)
        if new_links:
            conn.execute(
                self._insert(links.TABLE).on_conflict_do_nothing(
                    index_elements=["child_key"]
                ),
                new_links,
            )
        conn.commit()
        self._batch.clear()
        if self.on_batch is not None:
            self.on_batch()

    def _drop_own_comments(self) -> None:
        """Our export of this very site imported into it again: a comment posted
        here is exported as ``commentsvc:<its id>`` and has no import_key; it is
        already here (same id, same date), not a comment to add."""
        own = {}
        for row, _ in self._batch:
            source, _, ident = row["import_key"].partition(":")
            if source == NATIVE and ident.isdigit():
                own[int(ident)] = row["created_at"]
        if not own:
            return
        c = _comments.c
        here = {
            ident
            for ident, created_at in self._conn.execute(
                sa.select(c.id, c.created_at).where(
                    c.site_id == self.site_id,
                    c.import_key.is_(None),
                    c.id.in_(list(own)),
                )
            )
            if as_utc(created_at) == own[ident]
        }
        if here:
            kept = []
            for row, parent_key in self._batch:
                source, _, ident = row["import_key"].partition(":")
                if source == NATIVE and ident.isdigit() and int(ident) in here:
                    self.skip("already here (posted on this site)")
                else:
                    kept.append((row, parent_key))
            self._batch = kept

    # -- the end ----------------------------------------------------------------
    def finish(self) -> Summary:
        self._flush()
        self.summary.orphans += links.resolve(self._conn, self.site_id)
        self._settle_threads()
        self.summary.threads_touched = len(self._touched)
        self.__exit__()
        return self.summary

    def _settle_threads(self) -> None:
        """A thread's created_at is its first comment's date (threads close by
        age from it): move it back to the oldest comment imported into it."""
        conn = self._conn
        c = _comments.c
        ids = list(self._touched)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            oldest = conn.execute(
                sa.select(c.thread_id, sa.func.min(c.created_at))
                .where(c.thread_id.in_(chunk))
                .group_by(c.thread_id)
            ).all()
            current = dict(
                conn.execute(
                    sa.select(_threads.c.id, _threads.c.created_at).where(
                        _threads.c.id.in_(chunk)
                    )
                ).all()
            )
            changes = [
                {"b_id": thread_id, "b_created": as_utc(first)}
                for thread_id, first in oldest
                if first is not None and as_utc(first) < as_utc(current[thread_id])
            ]
            if changes:
                conn.execute(
                    sa.update(_threads)
                    .where(_threads.c.id == sa.bindparam("b_id"))
                    .values(created_at=sa.bindparam("b_created")),
                    changes,
                )
            conn.commit()
