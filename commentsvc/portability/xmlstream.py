"""Reading an export's XML as a stream, safely.

defusedxml refuses what makes XML dangerous: entity declarations (the
"billion laughs" expansion), external entities and, here, any DTD at all
(WordPress and Disqus exports have none). A refused or broken file ends the
import with one line saying why (:class:`BadImportFile`).
"""

import os
from collections.abc import Iterator
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse


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


def events(path, meter: Meter | None = None) -> Iterator[tuple[str, object, list]]:
    """``(event, element, stack)`` for each start and end of an element, where
    *stack* holds the element's ancestors (root first). The caller clears what
    it has used (``stack[-1].remove(element)``), so memory stays bounded.

    Raises:
        BadImportFile: the file is not well-formed XML, or declares a DTD or
            entities (refused as an attack), or cannot be read.
    """
    stack: list = []
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
                    yield event, element, stack
                    stack.append(element)
                else:
                    stack.pop()
                    yield event, element, stack
    except DefusedXmlException as error:
        raise BadImportFile(
            f"refused: the file declares a DTD or entities, which exports never "
            f"need and XML attacks use ({type(error).__name__})"
        ) from None
    except ParseError as error:
        raise BadImportFile(f"not well-formed XML: {error}") from None
    except OSError as error:
        raise BadImportFile(f"cannot read the file: {error}") from None
