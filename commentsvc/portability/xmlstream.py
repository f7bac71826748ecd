"""Reading an export's XML as a stream, safely.

defusedxml refuses what makes XML dangerous: entity declarations (the
"billion laughs" expansion), external entities and, here, any DTD at all
(WordPress and Disqus exports have none). A refused or broken file ends the
import with one line saying why (:class:`BadImportFile`).

Memory stays bounded whatever the file's shape: :func:`events` frees each
element once the caller has seen its end (see there), and refuses elements
nested deeper than :data:`MAX_DEPTH` (exports nest six levels at most; a file
nested a million levels deep would hold a million open elements) and more
than :data:`MAX_NAMES` distinct names.
"""

import os
from collections.abc import Iterator
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

# WXR nests rss/channel/item/wp:comment/wp:commentmeta/wp:meta_key: six.
MAX_DEPTH = 64
# Exports use under a hundred element and attribute names; the parser keeps
# each distinct one (about 200 bytes), so a file of made-up names would grow.
MAX_NAMES = 10_000


class BadImportFile(Exception):
    """The file cannot be imported; the message is one line for the user."""


class Meter:
    """How much of the input has been read (for a progress bar); a two-pass
    import counts the file twice."""

    def __init__(self, total: int = 0):
        self.total = total
        self.done = 0


class _Counting:
    def __init__(self, handle, meter: Meter | None):
        self.handle = handle
        self.meter = meter

    def read(self, size=-1):
        data = self.handle.read(size)
        if self.meter is not None:
            self.meter.done += len(data)
        return data


def file_size(path) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def local(tag: str) -> str:
    """``{namespace}name`` -> ``name``."""
    return tag.rsplit("}", 1)[-1]


def attribute(element, name: str) -> str | None:
    """An attribute by its local name, whatever its namespace (``dsq:id``)."""
    for key, value in element.attrib.items():
        if local(key) == name:
            return value
    return None


def children(element) -> dict[str, str]:
    """The text of *element*'s children by local name (the last one wins)."""
    return {local(child.tag): (child.text or "") for child in element}


def events(
    path, meter: Meter | None = None, *, fields: frozenset[str] = frozenset()
) -> Iterator[tuple[str, object, list]]:
    """``(event, element, stack)`` for each start and end of an element, where
    *stack* holds the element's ancestors (root first).

    Once the caller has seen an element's end, it is removed from its parent
    unless its local name is one of *fields* (what a record reads from its
    children, once the record ends); of those, only the last of each name
    under a parent stays (the last one wins, as :func:`children` reads them).
    So a record (a comment, a post) and everything around records go as soon
    as they are read, and an element with a million children holds a few.

    Raises:
        BadImportFile: the file is not well-formed XML, nests elements deeper
            than MAX_DEPTH, uses more than MAX_NAMES names, declares a DTD or
            entities (refused as an attack), or cannot be read.
    """
    stack: list = []
    kept: list[dict] = []  # per open element: the last kept child of each tag
    names: set[str] = set()
    try:
        with open(path, "rb") as handle:
            source = _Counting(handle, meter)
            for event, element in iterparse(
                source,
                events=("start", "end"),
                forbid_dtd=True,
                forbid_entities=True,
                forbid_external=True,
            ):
                if event == "start":
                    if len(stack) >= MAX_DEPTH:
                        raise BadImportFile(
                            f"refused: elements nested more than {MAX_DEPTH} "
                            "levels deep (exports nest six)"
                        )
                    names.add(element.tag)
                    names.update(element.attrib)
                    if len(names) > MAX_NAMES:
                        raise BadImportFile(
                            f"refused: more than {MAX_NAMES} distinct element "
                            "and attribute names (exports use under a hundred)"
                        )
                    yield event, element, stack
                    stack.append(element)
                    kept.append({})
                    continue
                stack.pop()
                kept.pop()
                yield event, element, stack
                if not stack:
                    continue  # the root
                if local(element.tag) not in fields:
                    stack[-1].remove(element)
                else:
                    previous = kept[-1].get(element.tag)
                    if previous is not None:
                        stack[-1].remove(previous)
                    kept[-1][element.tag] = element
    except DefusedXmlException as error:
        raise BadImportFile(
            f"refused: the file declares a DTD or entities, which exports never "
            f"need and XML attacks use ({type(error).__name__})"
        ) from None
    except ParseError as error:
        raise BadImportFile(f"not well-formed XML: {error}") from None
    except OSError as error:
        raise BadImportFile(f"cannot read the file: {error}") from None
