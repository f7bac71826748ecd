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


def _chunk_query():
    """The next chunk of links with both ends: constant SQL (statements with
    lists of keys of every length would each be prepared and cached by the
    driver: memory growing with the file)."""
    c = _comments.alias("c")
    p = _comments.alias("p")
    other = TABLE.alias("other")
    site = sa.bindparam("site_id")
    return (
        sa.select(
            TABLE.c.seq,
            TABLE.c.child_key,
            TABLE.c.parent_key,
            c.c.id.label("child_id"),
            c.c.thread_id.label("child_thread"),
            p.c.id.label("parent_id"),
            p.c.thread_id.label("parent_thread"),
            p.c.root_id.label("parent_root"),
            sa.select(other.c.seq)
            .where(other.c.child_key == TABLE.c.parent_key)
            .exists()
            .label("parent_pending"),
        )
        .select_from(
            TABLE.join(
                c, sa.and_(c.c.site_id == site, c.c.import_key == TABLE.c.child_key)
            ).outerjoin(
                p, sa.and_(p.c.site_id == site, p.c.import_key == TABLE.c.parent_key)
            )
        )
        .where(TABLE.c.seq > sa.bindparam("after"))
        .order_by(TABLE.c.seq)
        .limit(CHUNK)
    )


_CHUNK = _chunk_query()
_UPDATE = (
    sa.update(_comments)
    .where(_comments.c.id == sa.bindparam("b_id"))
    .values(parent_id=sa.bindparam("b_parent"), root_id=sa.bindparam("b_root"))
)
_DONE = sa.delete(TABLE).where(TABLE.c.seq == sa.bindparam("b_seq"))


def resolve(conn, site_id: int) -> int:
    """Give each reply linked in TABLE its parent and root (committing each
    chunk); empty the table; return how many replies stay top-level because
    their parent is missing."""
    orphans = 0
    while True:
        settled, after = 0, 0
        while True:
            chunk = conn.execute(_CHUNK, {"site_id": site_id, "after": after}).all()
            if not chunk:
                break
            after = chunk[-1].seq
            # Replies settled in this chunk: key -> (id, root), for their own
            # replies further on.
            settled_here: dict[str, tuple[int, int]] = {}
            updates, done = [], []
            for link in chunk:
                if (
                    link.parent_id is None
                    or link.parent_thread != link.child_thread
                    or link.parent_id == link.child_id
                ):
                    orphans += 1  # imported, top-level
                    root = None
                elif link.parent_key in settled_here:
                    root = settled_here[link.parent_key][1]
                elif link.parent_pending:
                    continue  # its parent is not settled yet
                else:
                    root = link.parent_root or link.parent_id
                if root is not None:
                    updates.append(
                        {
                            "b_id": link.child_id,
                            "b_parent": link.parent_id,
                            "b_root": root,
                        }
                    )
                settled_here[link.child_key] = (link.child_id, root or link.child_id)
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
