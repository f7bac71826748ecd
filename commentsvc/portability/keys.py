"""Thread keys of imported pages: the way the embed keys them unless told.

- ``path`` (the default): the path of the page's URL, as the embed computes it
  when a page gives no ``data-commentsvc-thread`` (``/2015/03/hello/``);
- ``url``: the whole URL;
- ``id``: the source's own identifier of the page (Disqus ``<id>``, the
  identifier your pages passed to Disqus; WordPress ``wp:post_id``), falling back
  to the path when the source has none;
- with ``url`` or ``id``, a value the API would refuse as a key (a line break
  or tab inside, over 512 characters) falls back to the path too, and so does
  a URL that is not http(s) with ``url``;
- ``--key-map FILE``: a CSV of ``url,key`` lines that wins over the rule above
  for the URLs it names (a header line ``url,key`` is allowed).
"""

import csv
from pathlib import Path

from ..inputrules import http_url_problem, thread_key_problem
from .clean import pathname

MODES = ("path", "url", "id")


class BadKeyMap(ValueError):
    pass


class ThreadKeys:
    def __init__(self, mode: str = "path", key_map: dict[str, str] | None = None):
        if mode not in MODES:
            raise ValueError(f"unknown key mode {mode!r}")
        self.mode = mode
        self.key_map = key_map or {}

    def key(self, url: str, identifier: str | None = None) -> str:
        url = (url or "").strip()
        mapped = self.key_map.get(url)
        if mapped:
            return mapped
        # A URL or an identifier with a line break or a tab inside (XML allows
        # them) would be a key no page can ask for: the path instead.
        if (
            self.mode == "url"
            and url
            and not thread_key_problem(url)
            and not http_url_problem(url)  # javascript:… is no page's URL
        ):
            return url
        identifier = (identifier or "").strip()
        if self.mode == "id" and identifier and not thread_key_problem(identifier):
            return identifier
        return pathname(url)


def read_key_map(path: str | Path) -> dict[str, str]:
    """The ``url,key`` pairs of a CSV file.

    Raises:
        BadKeyMap: a line is not two non-empty fields, or its key is one the
            API would refuse (control characters, over 512 characters).
    """
    found = {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            if not row or not "".join(row).strip():
                continue
            if number == 1 and [c.strip().lower() for c in row] == ["url", "key"]:
                continue
            if len(row) != 2 or not row[0].strip() or not row[1].strip():
                raise BadKeyMap(f"{path}, line {number}: expected url,key")
            key = row[1].strip()
            # A key no page can ask for (the API refuses it) makes a lost thread.
            problem = thread_key_problem(key)
            if problem:
                raise BadKeyMap(f"{path}, line {number}: the key: {problem}")
            found[row[0].strip()] = key
    return found
