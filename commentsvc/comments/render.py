"""Plain text to safe HTML, done once when a comment is stored."""

import re

import nh3
from markupsafe import escape

LINK_REL = "nofollow ugc noopener"

# What may survive the final pass: paragraphs, line breaks and http(s) links.
_ALLOWED_TAGS = {"p", "br", "a"}
_ALLOWED_ATTRIBUTES = {"a": {"href"}}
_ALLOWED_SCHEMES = {"http", "https"}

# A URL ends at whitespace, at anything that could end an attribute, and at a
# control character (never part of a link, and never to be put in an href).
_URL = re.compile(r"https?://[^\s<>\"'`\x00-\x1f\x7f-\x9f]+", re.IGNORECASE)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_TRAILING_PUNCTUATION = ".,;:!?'\""


def _trim_url(url: str) -> tuple[str, str]:
    """Split trailing punctuation (and an unbalanced ``)``) off a matched URL.

    One pass from the end, with the parentheses counted once: linear in the
    URL's length (a URL of 60,000 ``)`` must not cost seconds)."""
    opened, closed = url.count("("), url.count(")")
    end = len(url)
    while end:
        last = url[end - 1]
        if last in _TRAILING_PUNCTUATION:
            end -= 1
        elif last == ")" and opened < closed:
            closed -= 1
            end -= 1
        else:
            break
    return url[:end], url[end:]


def _clean(html: str) -> str:
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes=_ALLOWED_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    )


def _is_link_target(href: str) -> bool:
    """True if the final pass keeps *href*: it drops a URL it cannot parse
    (``http://a:99999``, ``http://a|b``), which would leave a link to nowhere."""
    return " href=" in _clean(f'<a href="{href}"></a>')


def _linkify(text: str) -> str:
    parts = []
    position = 0
    for match in _URL.finditer(text):
        url, tail = _trim_url(match.group(0))
        parts.append(str(escape(text[position : match.start()])))
        href = escape(url)
        if url.split("://", 1)[1] and _is_link_target(href):
            parts.append(f'<a href="{href}">{href}</a>')
        else:
            parts.append(str(href))
        parts.append(str(escape(tail)))
        position = match.end()
    parts.append(str(escape(text[position:])))
    return "".join(parts)


def render_body(text: str) -> str:
    """Return the safe HTML for a plain-text comment body.

    Text is escaped, blank lines make paragraphs, single newlines make ``<br>``,
    and http(s) URLs become links with ``rel="nofollow ugc noopener"``. A final
    nh3 pass with a strict allow-list guards against any mistake above.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    paragraphs = [p for p in _PARAGRAPH_BREAK.split(text) if p.strip()]
    html = "".join(
        "<p>" + "<br>".join(_linkify(line) for line in p.strip().split("\n")) + "</p>"
        for p in paragraphs
    )
    return _clean(html)
