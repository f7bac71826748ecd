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


def resolve(conn, site_id: int) -> int:
    """Give each reply linked in TABLE its parent and root (committing each
    chunk); empty the table; return how many replies stay top-level because
    their parent is missing."""
    c = _comments.c
    orphans = 0
    update = (
        sa.update(_comments)
        .where(c.id == sa.bindparam("b_id"))
        .values(parent_id=sa.bindparam("b_parent"), root_id=sa.bindparam("b_root"))
    )
    while True:
        settled, after = 0, 0
        while True:
            links = conn.execute(
                sa.select(TABLE)
                .where(TABLE.c.seq > after)
                .order_by(TABLE.c.seq)
                .limit(CHUNK)
            ).all()
            if not links:
                break
            after = links[-1].seq
            parents = {link.parent_key for link in links}
            keys = parents | {link.child_key for link in links}
            rows = {
                r.import_key: dict(r._mapping)
                for r in conn.execute(
                    sa.select(c.import_key, c.id, c.thread_id, c.root_id).where(
                        c.site_id == site_id, c.import_key.in_(keys)
                    )
                )
            }
            pending = set(
                conn.execute(
                    sa.select(TABLE.c.child_key).where(TABLE.c.child_key.in_(parents))
                ).scalars()
            )
            updates, done = [], []
            for link in links:
                child = rows[link.child_key]
                parent = rows.get(link.parent_key)
                if (
                    parent is None
                    or parent["thread_id"] != child["thread_id"]
                    or parent["id"] == child["id"]
                ):
                    orphans += 1  # imported, top-level
                elif link.parent_key in pending:
                    continue  # its parent is not settled yet
                else:
                    child["root_id"] = parent["root_id"] or parent["id"]
                    updates.append(
                        {
                            "b_id": child["id"],
                            "b_parent": parent["id"],
                            "b_root": child["root_id"],
                        }
                    )
                pending.discard(link.child_key)
                done.append(link.seq)
            if updates:
                conn.execute(update, updates)
            if done:
                conn.execute(sa.delete(TABLE).where(TABLE.c.seq.in_(done)))
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
