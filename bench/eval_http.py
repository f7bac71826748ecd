"""The two people of bench/filter_eval.py, over HTTP: a reader posting through
the public API, and a moderator deciding in the queue as its page does.

The moderator logs in through /moderation/login (a real session, the login
form's CSRF token) and presses a comment card's button: a POST to
/moderation/decide with the queue page form's fields (``csrf_token``,
``next``, ``reason``, ``one``) and htmx's ``HX-Request`` header, as the
in-place decision sends it; the fragment that answers must carry the
decision's message. The button's value is the card's (``action:id:version``):
the first time each kind of decision comes, the card is read from the queue
page (its tab, filtered to the comment's e-mail) and its button checked
against it; after that the value is made the same way, which saves a page
render per comment.
"""

import html
import re
from urllib.parse import urlencode

import requests
from itsdangerous import URLSafeSerializer

ORIGIN = "https://news.example"
# The form token's salt (commentsvc/spam/formtoken.py): the bench re-signs the
# token the API handed out with an earlier time, so as not to wait the minimum.
FORM_TOKEN_SALT = "commentsvc.form-token"
TOKEN_AGE = 40  # seconds: a reader who wrote for a while

_CSRF = re.compile(
    r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"'
)
_FLASH = re.compile(r'<p class="flash (\w+)">(.*?)</p>', re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
# What the queue says once each action is done (queue_views.DONE).
DONE = {"approve": "Approved", "spam": "Marked as spam"}


class BenchError(RuntimeError):
    """The app did not answer as a reader or moderator expects."""


class Reader:
    """Posts comments through the public API, each from its own address."""

    def __init__(self, base: str, secret: str):
        self.base = base
        self.session = requests.Session()
        self.serializer = URLSafeSerializer(secret, salt=FORM_TOKEN_SALT)

    def form_token(self, slug: str, ip: str) -> str:
        """The token the embed fetches when the reader starts writing, made
        TOKEN_AGE seconds older (or just past the site's minimum)."""
        response = self.session.post(
            f"{self.base}/api/v1/sites/{slug}/form-token",
            headers={"Origin": ORIGIN, "X-Forwarded-For": ip},
            timeout=30,
        )
        if response.status_code != 200:
            raise BenchError(
                f"form token: {response.status_code} {response.text[:200]}"
            )
        return aged(self.serializer, response.json())

    def close(self) -> None:
        # An open keep-alive connection holds up gunicorn's graceful stop.
        self.session.close()

    def post(self, slug: str, n: int, ip: str, row: dict) -> dict:
        """Post *row* as reader *n* from *ip*; the API's answer (202)."""
        story = f"/2026/11/story-{n % 12}"
        response = self.session.post(
            f"{self.base}/api/v1/sites/{slug}/comments",
            json={
                "thread": story,
                "url": ORIGIN + story,
                "title": f"Story {n % 12}",
                "author": (row["author"] or f"Reader {n}")[:100],
                "email": email_of(n),
                "body": row["body"][:5000] or "(empty)",
                "form_token": self.form_token(slug, ip),
            },
            headers={"Origin": ORIGIN, "X-Forwarded-For": ip},
            timeout=30,
        )
        if response.status_code != 202:
            raise BenchError(f"post {n}: {response.status_code} {response.text[:300]}")
        return response.json()


def aged(serializer: URLSafeSerializer, answer: dict) -> str:
    """The form token of the API's *answer* (``token``, ``min_seconds``),
    signed again as if issued TOKEN_AGE seconds earlier (or just past the
    site's minimum)."""
    data = serializer.loads(answer["token"])
    age = max(TOKEN_AGE, answer.get("min_seconds", 0) + 1)
    data["t"] = round(float(data["t"]) - age, 3)
    return serializer.dumps(data)


def email_of(n: int) -> str:
    return f"reader{n}@example.org"


class Moderator:
    """A moderator's browser on the queue: a session cookie and its CSRF token."""

    def __init__(self, base: str, username: str, password: str):
        self.base = base
        self.session = requests.Session()
        self.username, self.password = username, password
        self.csrf = None
        self.cards_read = set()  # the tabs a card was read from

    def close(self) -> None:
        self.session.close()

    def log_in(self) -> None:
        """Through /moderation/login, with the form's CSRF token.

        Raises:
            BenchError: the login did not land on the queue.
        """
        page = self.session.get(f"{self.base}/moderation/login", timeout=30)
        response = self.session.post(
            f"{self.base}/moderation/login",
            data={
                "username": self.username,
                "password": self.password,
                "csrf_token": _csrf(page.text),
            },
            timeout=30,
        )
        if response.status_code != 200 or "/moderation/queue" not in response.url:
            raise BenchError(f"login: {response.status_code} at {response.url}")
        self.csrf = _csrf(response.text)

    def card(self, slug: str, tab: str, comment: dict, email: str) -> dict:
        """The card of *comment* (``id``, ``version``), as the queue page
        filtered to its e-mail shows it: ``{"page": path, "buttons": {action:
        value}}``; read from the page only the first time a kind of decision
        (tab) comes.

        Raises:
            BenchError: the card is not on the page.
        """
        path = "/moderation/queue?" + urlencode(
            {"status": tab, "site": slug, "email": email}
        )
        made = {
            action: f"{action}:{comment['id']}:{comment['version']}" for action in DONE
        }
        if tab in self.cards_read:
            return {"page": path, "buttons": made}
        self.cards_read.add(tab)
        comment_id = comment["id"]
        response = self.session.get(self.base + path, timeout=30)
        article = re.search(
            rf'<article [^>]*id="c{comment_id}".*?</article>', response.text, re.DOTALL
        )
        if response.status_code != 200 or article is None:
            raise BenchError(f"comment {comment_id} is not in the {tab} tab: {path}")
        self.csrf = _csrf(response.text) or self.csrf
        values = re.findall(r'name="one" value="([^"]+)"', article.group(0))
        buttons = {v.split(":", 1)[0]: v for v in values}
        for action, value in buttons.items():
            if action in made and made[action] != value:
                raise BenchError(f"the card's {action} button is {value!r}")
        return {"page": path, "buttons": buttons}

    def decide(self, card: dict, action: str) -> str:
        """Press the card's *action* button in place (htmx); the message the
        answer shows.

        Raises:
            BenchError: the card has no such button, or the answer is not the
                decision's message.
        """
        value = card["buttons"].get(action)
        if value is None:
            raise BenchError(f"no {action} button on the card: {card['buttons']}")
        response = self.session.post(
            f"{self.base}/moderation/decide",
            data={
                "csrf_token": self.csrf,
                "next": card["page"],
                "reason": "",
                "one": value,
            },
            headers={
                "HX-Request": "true",
                "HX-Current-URL": self.base + card["page"],
                "HX-Trigger": "decisions",
                "HX-Target": "decisions",
            },
            timeout=30,
        )
        flashes = [
            (kind, html.unescape(_TAG.sub("", text)).strip())
            for kind, text in _FLASH.findall(response.text)
        ]
        if (
            response.status_code != 200
            or response.headers.get("HX-Trigger") != "decided"
            or not flashes
            or flashes[0][0] != "info"
            or not flashes[0][1].startswith(DONE[action])
        ):
            said = flashes or response.text[:300]
            raise BenchError(f"decide {value}: {response.status_code} {said}")
        return flashes[0][1]


def _csrf(page: str) -> str | None:
    found = _CSRF.search(page)
    return html.unescape(found.group(1) or found.group(2)) if found else None
