"""Our own export format (written by :mod:`.export`), read back as a stream.

One JSON document::

    {"format": "commentsvc-export", "version": 1, "site": "news",
     "exported_at": "2026-11-29T22:00:00+00:00",
     "records": [
       {"type": "thread", "key": "/a", "url": "...", "title": "...",
        "created_at": "...", "comments_open": null},
       {"type": "comment", "thread": "/a", "id": 12, "key": "commentsvc:12",
        "parent_id": null, "parent_key": null, "author": "...", ...},
       ...
     ]}

Header members come before ``records``; a thread's record comes before its
comments. The reader decodes one record at a time (``json.JSONDecoder
.raw_decode`` over a sliding buffer), whatever the file's layout, so memory
stays bounded by the largest record.
"""

import json
from collections.abc import Iterator

from ..models import CommentStatus
from .clean import parse_date
from .records import CommentIn, Skipped, ThreadIn
from .xmlstream import BadImportFile, Meter

FORMAT = "commentsvc-export"
VERSION = 1
SOURCE = "commentsvc"

_CHUNK = 64 * 1024
# Our records nest four levels (a comment's signals a few more); Python's
# decoder gives up near a thousand, with a RecursionError.
MAX_DEPTH = 32
_TOO_DEEP = f"refused: JSON nested more than {MAX_DEPTH} levels deep"
_WHITESPACE = " \t\r\n"


class _Stream:
    """Values of a JSON text decoded one at a time from a file."""

    def __init__(self, handle, meter: Meter | None):
        self.handle = handle
        self.meter = meter
        self.buffer = ""
        self.position = 0
        self.eof = False
        # NaN and Infinity are not JSON (and no database column takes them).
        self.decoder = json.JSONDecoder(parse_constant=lambda name: None)

    def _more(self) -> bool:
        if self.eof:
            return False
        data = self.handle.read(_CHUNK)
        if self.meter is not None:
            self.meter.done += len(data.encode())
        if not data:
            self.eof = True
            return False
        self.buffer = self.buffer[self.position :] + data
        self.position = 0
        return True

    def peek(self) -> str:
        """The next character that is not whitespace ('' at the end)."""
        while True:
            while (
                self.position < len(self.buffer)
                and self.buffer[self.position] in _WHITESPACE
            ):
                self.position += 1
            if self.position < len(self.buffer):
                return self.buffer[self.position]
            if not self._more():
                return ""

    def expect(self, char: str) -> None:
        found = self.peek()
        if found != char:
            raise BadImportFile(f"not our export format: expected {char!r}, found "
                                f"{found[:1]!r}")  # fmt: skip
        self.position += 1

    def value(self):
        self.peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.position)
            except json.JSONDecodeError as error:
                if self._more():
                    continue
                raise BadImportFile(f"not valid JSON: {error}") from None
            except RecursionError:
                raise BadImportFile(_TOO_DEEP) from None
            # A number at the end of the buffer may go on in the next chunk.
            if end == len(self.buffer) and self._more():
                continue
            self.position = end
            if _deeper_than(value, MAX_DEPTH):
                raise BadImportFile(_TOO_DEEP)
            return value


def _deeper_than(value, limit: int) -> bool:
    """Whether *value* nests lists and objects more than *limit* deep (without
    recursion: a deep value must not be the one to overflow the stack)."""
    level = [value]
    for _ in range(limit + 1):
        level = [
            item
            for node in level
            if isinstance(node, list | dict)
            for item in (node.values() if isinstance(node, dict) else node)
        ]
        if not level:
            return False
    return True


def records(path, meter: Meter | None = None) -> Iterator[dict]:
    """The header (first), then each record of an export file.

    Raises:
        BadImportFile: not our format, a version we do not know, broken JSON.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            stream = _Stream(handle, meter)
            stream.expect("{")
            header = {}
            while True:
                key = stream.value()
                if not isinstance(key, str):
                    raise BadImportFile("not our export format: a member name")
                stream.expect(":")
                if key == "records":
                    _check(header)
                    yield header
                    stream.expect("[")
                    if stream.peek() == "]":
                        stream.position += 1
                    else:
                        while True:
                            yield stream.value()
                            if stream.peek() == "]":
                                stream.position += 1
                                break
                            stream.expect(",")
                    return
                header[key] = stream.value()
                stream.expect(",")
    except UnicodeDecodeError:
        raise BadImportFile("not our export format: not UTF-8 text") from None
    except OSError as error:
        raise BadImportFile(f"cannot read the file: {error}") from None


def _check(header: dict) -> None:
    if header.get("format") != FORMAT:
        raise BadImportFile(f"not a commentsvc export (format {FORMAT!r} expected)")
    if header.get("version") != VERSION:
        raise BadImportFile(
            f"export version {header.get('version')!r} is not one this version "
            f"reads ({VERSION})"
        )


def _text(value) -> str | None:
    """A string member as text the database can store (None if not a string):
    NUL bytes dropped, lone surrogates (JSON's "\\ud800") replaced."""
    if not isinstance(value, str):
        return None
    return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _clean(value):
    """A JSON value (signals) with its strings and member names made _text."""
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, list):
        return [_clean(item) for item in value]
    if isinstance(value, dict):
        return {_text(str(k)): _clean(v) for k, v in value.items()}
    return value


def _date(value):
    return parse_date(value) if isinstance(value, str) else None


def _thread(record: dict) -> ThreadIn:
    open_ = record.get("comments_open")
    return ThreadIn(
        key=_text(record.get("key")) or "",
        url=_text(record.get("url")) or "",
        title=_text(record.get("title")),
        created_at=_date(record.get("created_at")),
        comments_open=open_ if isinstance(open_, bool) else None,
    )


def _comment(record: dict, thread: ThreadIn) -> CommentIn | Skipped:
    try:
        status = CommentStatus(record.get("status"))
    except ValueError:
        return Skipped("comment with an unknown status")
    created_at = _date(record.get("created_at"))
    if created_at is None:
        return Skipped("comment without a readable date")
    ident = record.get("id")
    key = _text(record.get("key")) or (
        f"{SOURCE}:{ident}" if isinstance(ident, int | str) and ident != "" else None
    )
    if not key:
        return Skipped("comment without an id")
    signals = record.get("signals")
    return CommentIn(
        key=_text(str(key)),
        thread=thread,
        parent_key=_text(record.get("parent_key")),
        author=_text(record.get("author")) or "",
        body=_text(record.get("body")) or "",
        status=status,
        created_at=created_at,
        email=_text(record.get("email")),
        ip=_text(record.get("ip")),
        user_agent=_text(record.get("user_agent")),
        page_title=_text(record.get("page_title")),
        moderated_at=_date(record.get("moderated_at")),
        edited_at=_date(record.get("edited_at")),
        signals=_clean(signals) if isinstance(signals, dict) else {},
    )


def read(path, meter: Meter | None = None) -> Iterator[ThreadIn | CommentIn | Skipped]:
    """What the export *path* holds: each thread, then its comments.

    Raises:
        BadImportFile: see :func:`records`.
    """
    threads: dict[str, ThreadIn] = {}
    stream = records(path, meter)
    next(stream)  # the header, checked
    for record in stream:
        kind = record.get("type") if isinstance(record, dict) else None
        if kind == "thread":
            thread = _thread(record)
            if not thread.key:
                yield Skipped("thread without a key")
                continue
            threads[thread.key] = thread
            yield thread
        elif kind == "comment":
            thread = threads.get(_text(record.get("thread")))
            if thread is None:
                yield Skipped("comment of a thread the file does not list")
                continue
            yield _comment(record, thread)
        else:
            yield Skipped("record of an unknown type")
