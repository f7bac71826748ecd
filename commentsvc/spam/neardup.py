"""Near-duplicates: the same message with small changes, across threads, pages
and (for sites that opted in) sites.

In the transaction that stores a comment, :func:`check` signs its body (MinHash
over character 5-grams, see minhash.py), finds the earlier comments sharing a
band key (one query) and estimates their similarity. A near-duplicate of a
comment a moderator decided as spam is spam; the same message on MANY_THREADS
threads within a day, from anyone, is a campaign (spam). A near-duplicate of
an approved comment never counts: moderators vouched for those words. After
the insert, :func:`remember` stores the signature and its band keys.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import sqlalchemy as sa

from ..extensions import db
from ..models import (
    Comment,
    CommentBand,
    CommentStatus,
    Thread,
    as_utc,
    utcnow,
)
from ..models import Site as _Site
from . import minhash
from .links import find_links
from .verdict import Verdict

# Estimated Jaccard similarity of the shingle sets (chosen on the replays of
# bench/neardup_offline.py: docs/spam.md). A moderator's spam decision is
# strong evidence, so its near-duplicates need less likeness than a campaign
# built from undecided comments.
SPAM_SIMILARITY = 0.5
CAMPAIGN_SIMILARITY = 0.6
CAMPAIGN_WINDOW = timedelta(hours=24)
MANY_THREADS = 3
# Shorter bodies without a link are exempt from the campaign rule (as from the
# exact rule: "Thank you for this article!" under three stories is readers).
MIN_CAMPAIGN_LENGTH = 25
# The candidates looked at (decided spam first, then the newest): a huge
# campaign is caught long before.
MAX_CANDIDATES = 200

_bands = CommentBand.__table__
# Band 0's row carries the signature.
_signatures = _bands.alias("signatures")
_comments = Comment.__table__
_threads = Thread.__table__
_sites = _Site.__table__


def _candidates(shared: bool) -> sa.Select:
    """The earlier comments sharing a band key with the new one, decided spam
    first, then the newest: this site's, or also those of every site sharing
    spam signals."""
    if shared:
        sites = sa.select(_sites.c.id).where(
            sa.or_(_sites.c.share_spam_signals, _sites.c.id == sa.bindparam("site_id"))
        )
        where_site = _bands.c.site_id.in_(sites)
    else:
        where_site = _bands.c.site_id == sa.bindparam("site_id")
    near = sa.select(_bands.c.comment_id).where(
        _bands.c.band_key.in_(sa.bindparam("keys", expanding=True)), where_site
    )
    return (
        sa.select(
            _signatures.c.comment_id,
            _signatures.c.signature,
            _comments.c.site_id,
            _comments.c.status,
            _comments.c.decided_status,
            _comments.c.created_at,
            _threads.c.key,
        )
        .join(_comments, _comments.c.id == _signatures.c.comment_id)
        .join(_threads, _threads.c.id == _comments.c.thread_id)
        .where(
            _signatures.c.band == 0,
            _signatures.c.comment_id.in_(near),
            # Deleted by their author or a moderator: no longer anyone's words.
            _comments.c.status != CommentStatus.DELETED,
        )
        # Moderators' spam decisions first, however old, then the newest.
        .order_by(
            sa.case((_comments.c.decided_status == CommentStatus.SPAM, 0), else_=1),
            _signatures.c.comment_id.desc(),
        )
        .limit(MAX_CANDIDATES)
    )


# Built once: every post runs one of them.
_LOCAL = _candidates(shared=False)
_SHARED = _candidates(shared=True)
# One statement for a comment's rows (executemany costs a statement each),
# as text (from constants only): SQLAlchemy compiles a multi-row INSERT
# construct again on every execution.
_ROWS = ", ".join(
    f"(:comment_id, {n}, :band{n}, :site_id, "
    f"{':signature' if n == 0 else 'NULL'}, :created_at)"
    for n in range(minhash.BANDS)
)
_COLUMNS = "comment_id, band, band_key, site_id, signature, created_at"
_INSERT_BANDS = sa.text(
    f"INSERT INTO comment_bands ({_COLUMNS}) VALUES {_ROWS}"  # noqa: S608
).bindparams(
    sa.bindparam("signature", type_=_bands.c.signature.type),
    sa.bindparam("created_at", type_=_bands.c.created_at.type),
)


@dataclass(frozen=True)
class Signed:
    """A body's signature and band keys, to store once the comment is."""

    signature: np.ndarray
    keys: list[int]


@dataclass(frozen=True)
class Near:
    """An earlier comment like the new one."""

    comment_id: int
    site_id: int
    thread: tuple[int, str]
    similarity: float
    status: CommentStatus
    decided: CommentStatus | None
    created_at: datetime


def sign(body: str) -> Signed | None:
    """The body's signature and band keys; None for a body too short to tell."""
    signature = minhash.signature(body)
    if signature is None:
        return None
    return Signed(signature, minhash.band_keys(signature))


def find_near(site, signed: Signed, threshold: float) -> list[Near]:
    """Earlier comments of this site (and of sites sharing spam signals, when
    this one does) at least *threshold* alike, most alike first.

    Raises:
        sqlalchemy.exc.DBAPIError: the database failed.
    """
    query = _SHARED if site.share_spam_signals else _LOCAL
    rows = (
        db.session.connection()
        .execute(query, {"site_id": site.id, "keys": signed.keys})
        .all()
    )
    if not rows:
        return []
    # All candidates at once: one (rows x PERMUTATIONS) comparison.
    earlier = minhash.from_bytes(b"".join(row.signature for row in rows))
    agree = (earlier.reshape(len(rows), -1) == signed.signature).mean(axis=1)
    found = [
        Near(
            row.comment_id,
            row.site_id,
            (row.site_id, row.key),
            float(similarity),
            row.status,
            row.decided_status,
            row.created_at,
        )
        for row, similarity in zip(rows, agree.tolist(), strict=True)
        if similarity >= threshold
    ]
    found.sort(key=lambda near: near.similarity, reverse=True)
    return found


def _approved(near: Near) -> bool:
    return CommentStatus.APPROVED in (near.status, near.decided)


def check(site, thread_key: str, body: str, verdict: Verdict) -> Signed | None:
    """Run the near-duplicate rules on a new comment for *thread_key*; return
    what :func:`remember` stores once the comment is (None: too short to sign).

    Raises:
        sqlalchemy.exc.DBAPIError: the database failed.
    """
    signed = sign(body)
    if signed is None:
        return None
    near = find_near(site, signed, min(SPAM_SIMILARITY, CAMPAIGN_SIMILARITY))
    spam = [n for n in near if n.decided == CommentStatus.SPAM]
    if spam and spam[0].similarity >= SPAM_SIMILARITY:
        verdict.spam(
            "near_duplicate_of_spam",
            {"comment": spam[0].comment_id, "similarity": spam[0].similarity},
        )
        return signed
    campaign = [n for n in near if n.similarity >= CAMPAIGN_SIMILARITY]
    if any(n.decided == CommentStatus.APPROVED for n in campaign):
        return signed  # a moderator published these words
    if len(body.strip()) < MIN_CAMPAIGN_LENGTH and not find_links(body):
        return signed
    since = utcnow() - CAMPAIGN_WINDOW
    threads = {
        n.thread for n in campaign if not _approved(n) and as_utc(n.created_at) > since
    }
    threads.add((site.id, thread_key))
    if len(threads) >= MANY_THREADS:
        verdict.spam(
            "near_duplicate_campaign",
            {"threads": len(threads), "similarity": campaign[0].similarity},
        )
    return signed


def remember(site_id: int, comment_id: int, signed: Signed | None) -> None:
    """Store a new comment's signature and band keys, in the caller's
    transaction (nothing committed here).

    Raises:
        sqlalchemy.exc.DBAPIError: the database failed.
    """
    if signed is None:
        return
    db.session.connection().execute(
        _INSERT_BANDS,
        {
            "comment_id": comment_id,
            "site_id": site_id,
            "signature": minhash.to_bytes(signed.signature),
            "created_at": utcnow(),
            **{f"band{n}": key for n, key in enumerate(signed.keys)},
        },
    )


def forget(comment_ids: list[int]) -> None:
    """Drop the signatures and band keys of *comment_ids* (their words are
    erased, or replaced), in the caller's transaction.

    Raises:
        sqlalchemy.exc.DBAPIError: the database failed.
    """
    db.session.connection().execute(
        sa.delete(_bands).where(_bands.c.comment_id.in_(comment_ids))
    )


def replace(site_id: int, comment_id: int, body: str) -> None:
    """A comment's words changed (its author's edit): sign them again, in the
    caller's transaction.

    Raises:
        sqlalchemy.exc.DBAPIError: the database failed.
    """
    forget([comment_id])
    remember(site_id, comment_id, sign(body))


def sign_missing(batch_size: int = 500) -> int:
    """Sign the comments that have no signature yet (stored before migration
    0014, or imported), a batch per transaction; return how many were signed.
    Deleted comments and bodies too short to sign are skipped (the short ones
    are read again on every run: cheap, and no marker row to keep).

    Raises:
        sqlalchemy.exc.DBAPIError: the database failed (batches committed
            before stay signed).
    """
    signed = 0
    last = 0
    while True:
        rows = (
            db.session.connection()
            .execute(
                sa.select(_comments.c.id, _comments.c.site_id, _comments.c.body)
                .outerjoin(
                    _bands,
                    sa.and_(_bands.c.comment_id == _comments.c.id, _bands.c.band == 0),
                )
                .where(
                    _bands.c.comment_id.is_(None),
                    _comments.c.id > last,
                    _comments.c.status != CommentStatus.DELETED,
                )
                .order_by(_comments.c.id)
                .limit(batch_size)
            )
            .all()
        )
        if not rows:
            return signed
        try:
            for row in rows:
                mark = sign(row.body)
                if mark is not None:
                    remember(row.site_id, row.id, mark)
                    signed += 1
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        last = rows[-1].id
