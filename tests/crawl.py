"""Helpers to act as a moderator with a test client: log in through the form,
read a form's fields as a browser would submit them, and visit every page
reachable by links (for tests that check something on all of them)."""

import re
from collections import deque
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_from(html: str) -> str:
    return CSRF.search(html).group(1)


def log_in(app, username: str, password: str, base_url: str = "http://localhost"):
    """A test client logged in through the login form."""
    client = app.test_client()
    page = client.get("/moderation/login", base_url=base_url).get_data(as_text=True)
    response = client.post(
        "/moderation/login",
        base_url=base_url,
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_from(page),
        },
        headers={"Referer": f"{base_url}/moderation/login"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


class _Forms(HTMLParser):
    """The fields of the form whose action ends with *action*, as submitted (a
    form without an action posts to the page's own URL, *page*)."""

    def __init__(self, action: str, page: str):
        super().__init__(convert_charrefs=True)
        self.action = action
        self.page = page
        self.inside = False
        self.fields: dict[str, object] = {}
        self._textarea = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = (attrs.get("action") or self.page).endswith(self.action)
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields[name] = attrs.get("value", "y")
            elif kind not in ("submit", "button"):
                self.fields[name] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields[self._select] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data.lstrip("\n")


def form_fields(html: str, action: str, page: str | None = None) -> dict:
    """What a browser would submit, untouched, for the form posting to *action*
    on the page at *page* (by default, *action* itself)."""
    parser = _Forms(action, page or action)
    parser.feed(html)
    return parser.fields


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)


@dataclass
class Visit:
    url: str
    status: int
    headers: dict
    body: str


def crawl(client, start: str = "/moderation/", within: str = "/moderation", limit=80):
    """GET *start* and every same-site page linked from the pages seen whose
    path starts with *within*, breadth first, at most *limit* pages."""
    seen, queue, visits = {start}, deque([start]), []
    while queue and len(visits) < limit:
        url = queue.popleft()
        response = client.get(url, follow_redirects=True)
        body = response.get_data(as_text=True)
        visits.append(Visit(url, response.status_code, dict(response.headers), body))
        if response.mimetype != "text/html":
            continue
        parser = _Links()
        parser.feed(body)
        for href in parser.links:
            parts = urlsplit(urljoin(url, href))
            if parts.netloc not in ("", "localhost") or parts.scheme not in (
                "",
                "http",
                "https",
            ):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if parts.path.startswith(within) and target not in seen:
                seen.add(target)
                queue.append(target)
    return visits
