"""Finding links in a comment: URLs, ``www.`` addresses and bare domains
(``moneygq.com``, ``bit.ly/x``), and which of them go through a URL shortener.

A bare domain is a dotted name whose last part is a public suffix (the Public
Suffix List snapshot that ``tldextract`` ships; it is never fetched), so
"node.js" and "e.g." are not links and "example.co.uk/page" is one.
"""

import functools
import re
from urllib.parse import urlsplit

# One match per link: "https://www.example.com" is one link, not two (a URL runs
# to whitespace or a character that ends it, as in comments.render).
URL = re.compile(r"(?:https?://|\bwww\.)[^\s<>\"'`]*", re.IGNORECASE)
# Not part of an email address (no @ either side) nor of a longer word.
BARE_DOMAIN = re.compile(
    r"(?<![\w@.\-/])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})"
    r"(?![\w@\-])(?:/[^\s<>\"'`]*)?",
    re.IGNORECASE,
)
# Well-known public URL shorteners: a link through one hides where it goes.
SHORTENERS = frozenset(
    [
        "bit.ly",
        "bitly.com",
        "tinyurl.com",
        "goo.gl",
        "t.co",
        "ow.ly",
        "is.gd",
        "buff.ly",
        "cutt.ly",
        "rebrand.ly",
        "shorturl.at",
        "tiny.cc",
        "rb.gy",
        "t.ly",
        "bl.ink",
        "s.id",
        "v.gd",
        "lnkd.in",
        "soo.gd",
        "clck.ru",
        "qr.ae",
        "shorte.st",
        "adf.ly",
        "bc.vc",
        "ouo.io",
        "linktr.ee",
        "tr.im",
        "x.co",
        "u.to",
        "short.io",
        "shrtco.de",
        "tiny.one",
        "rotf.lol",
        "surl.li",
        "urlz.fr",
    ]
)


@functools.cache
def _extractor():
    import tldextract

    # The snapshot bundled with the package: no network, no cache directory.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def _host(url: str) -> str:
    if not url.lower().startswith(("http://", "https://")):
        url = "http://" + url
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _is_domain(name: str) -> bool:
    parts = _extractor()(name)
    return bool(parts.suffix and parts.domain)


def find_links(*texts: str | None) -> list[str]:
    """The host of every link in *texts*, one per link."""
    hosts = []
    for text in texts:
        if not text:
            continue
        rest = URL.sub(lambda m: hosts.append(_host(m.group(0))) or " ", text)
        for match in BARE_DOMAIN.finditer(rest):
            if _is_domain(match.group(1)):
                hosts.append(match.group(1).lower())
    return hosts


def shortened(hosts: list[str]) -> list[str]:
    """The hosts among *hosts* that are URL shorteners (without ``www.``)."""
    return sorted({h.removeprefix("www.") for h in hosts} & SHORTENERS)
