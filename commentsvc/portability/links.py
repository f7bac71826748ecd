"""Replies linked to their parents once everything is stored.

The writer inserts every comment top-level and keeps ``(child, parent)`` source
ids in a temporary table (per connection); :func:`resolve` then gives each
reply its parent and ``root_id`` (its top-level comment: migration 0006), a
chunk of links at a time, in passes until a pass settles nothing (a parent
later in the file than its reply settles in the next pass). A parent that is
missing, in another thread, or in a loop of replies leaves the reply
top-level.
"""

import sqlalchemy as sa

from ..models import Comment

CHUNK = 5000

_comments = Comment.__table__
TABLE = sa.Table(
    "commentsvc_import_links",
    sa.MetaData(),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("child_key", sa.String(200), nullable=False, unique=True),
    sa.Column("parent_key", sa.String(200), nullable=False),
    prefixes=["TEMPORARY"],
)


_CHUNK = (
    sa.select(TABLE.c.seq, TABLE.c.child_key, TABLE.c.parent_key)
    .where(TABLE.c.seq > sa.bindparam("after"))
    .order_by(TABLE.c.seq)
    .limit(CHUNK)
)
_ROWS = sa.select(
    _comments.c.import_key, _comments.c.id, _comments.c.thread_id, _comments.c.root_id
).where(
    _comments.c.site_id == sa.bindparam("site_id"),
    _comments.c.import_key.in_(sa.bindparam("keys", expanding=True)),
)
_PENDING = sa.select(TABLE.c.child_key).where(
    TABLE.c.child_key.in_(sa.bindparam("keys", expanding=True))
)
_UPDATE = (
    sa.update(_comments)
    .where(_comments.c.id == sa.bindparam("b_id"))
    .values(parent_id=sa.bindparam("b_parent"), root_id=sa.bindparam("b_root"))
)
_DONE = sa.delete(TABLE).where(TABLE.c.seq == sa.bindparam("b_seq"))


def _padded(keys: set[str], size: int) -> list[str]:
    """*keys* made up to *size* with a key no comment has: a list of one
    length makes one SQL statement (lists of every length would each be
    prepared and kept by the driver: memory growing with the file)."""
    return [*keys, *([""] * (size - len(keys)))]


def resolve(conn, site_id: int) -> int:
    """Give each reply linked in TABLE its parent and root (committing each
    chunk); empty the table; return how many replies stay top-level because
    their parent is missing."""
    orphans = 0
    while True:
        settled, after = 0, 0
        while True:
            chunk = conn.execute(_CHUNK, {"after": after}).all()
            if not chunk:
                break
            after = chunk[-1].seq
            parents = {link.parent_key for link in chunk}
            keys = parents | {link.child_key for link in chunk}
            rows = {
                r.import_key: r
                for r in conn.execute(
                    _ROWS, {"site_id": site_id, "keys": _padded(keys, 2 * CHUNK)}
                )
            }
            pending = set(
                conn.execute(_PENDING, {"keys": _padded(parents, CHUNK)}).scalars()
            )
            # Replies settled in this chunk: key -> their root, for their own
            # replies further on.
            root_of: dict[str, int] = {}
            updates, done = [], []
            for link in chunk:
                child = rows[link.child_key]
                parent = rows.get(link.parent_key)
                if (
                    parent is None
                    or parent.thread_id != child.thread_id
                    or parent.id == child.id
                ):
                    orphans += 1  # imported, top-level
                    root_of[link.child_key] = child.id
                elif link.parent_key in root_of:
                    root_of[link.child_key] = root_of[link.parent_key]
                elif link.parent_key in pending:
                    continue  # its parent is not settled yet
                else:
                    root_of[link.child_key] = parent.root_id or parent.id
                if parent is not None and root_of[link.child_key] != child.id:
                    updates.append(
                        {
                            "b_id": child.id,
                            "b_parent": parent.id,
                            "b_root": root_of[link.child_key],
                        }
                    )
                done.append({"b_seq": link.seq})
            if updates:
                conn.execute(_UPDATE, updates)
            if done:
                conn.execute(_DONE, done)
            conn.commit()
            settled += len(done)
        if not settled:
            break
    # What never settled hangs under a loop of replies: top-level it stays.
    left = conn.execute(sa.select(sa.func.count()).select_from(TABLE)).scalar()
    if left:
        orphans += left
        conn.execute(sa.delete(TABLE))
        conn.commit()
    return orphans
