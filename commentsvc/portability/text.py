"""HTML from another system's export, reduced to the plain text our renderer
formats (commentsvc.comments.render): paragraphs and line breaks become blank
lines and newlines, a link keeps its address (the renderer links it again),
scripts and styles disappear with their content, every other tag is dropped and
its text kept, entities are decoded.

``render_body(html_to_text(html))`` is then the comment as we would have shown
it had it been posted here: nothing of the export's HTML reaches a page.
"""

import re
from html.parser import HTMLParser

# Elements that end a paragraph (a blank line before and after).
_BLOCKS = {
    "p", "div", "blockquote", "pre", "ul", "ol", "li", "dl", "dt", "dd", "table",
    "tr", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "section", "article", "figure",
    "figcaption", "header", "footer", "aside", "address",
}  # fmt: skip
# Elements whose content is never text.
_DROPPED = {"script", "style", "template", "noscript", "iframe", "object", "svg"}
_SCHEMES = ("http://", "https://")

_RUNS_OF_SPACES = re.compile(r"[ \t]{2,}")
_MANY_NEWLINES = re.compile(r"\n{3,}")


class _Reducer(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.dropping = 0  # inside a <script>, <style>...
        self.links: list[tuple[str | None, int]] = []  # (href, where its text starts)

    def handle_starttag(self, tag, attrs):
        if tag in _DROPPED:
            self.dropping += 1
        elif self.dropping:
            return
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag == "a":
            # A link inside a link closes the outer one, as browsers do: the
            # text of each link is then joined once (nested links cost
            # linear time, not quadratic).
            if self.links:
                self.handle_endtag("a")
            href = (dict(attrs).get("href") or "").strip()
            ok = href.lower().startswith(_SCHEMES) and not re.search(r"\s", href)
            self.links.append((href if ok else None, len(self.parts)))

    def handle_startendtag(self, tag, attrs):
        if tag in _DROPPED:
            return
        self.handle_starttag(tag, attrs)
        if tag == "a":
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in _DROPPED:
            self.dropping = max(0, self.dropping - 1)
        elif self.dropping:
            return
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            if href is None:
                return
            text = "".join(self.parts[start:]).strip()
            bare = text.rstrip("/").split("://", 1)[-1]
            if not text or href.rstrip("/").split("://", 1)[-1] == bare:
                del self.parts[start:]
                self.parts.append(f" {href} ")
            else:
                self.parts.append(f" ({href})")

    def handle_data(self, data):
        if not self.dropping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The text our renderer should format for the export's *html*."""
    html = html.replace("\r\n", "\n").replace("\r", "\n")
    if "<" in html or "&" in html:
        reducer = _Reducer()
        reducer.feed(html)
        reducer.close()
        html = "".join(reducer.parts)
    # Line by line: a pattern of spaces before a newline backtracks over a
    # long run of spaces without one (quadratic time).
    lines = html.replace("\u00a0", " ").split("\n")
    text = "\n".join(_RUNS_OF_SPACES.sub(" ", line.strip(" \t")) for line in lines)
    return _MANY_NEWLINES.sub("\n\n", text).strip()
