"""Solving the login's proof of work as the browser's widget does."""

import html
import re

import altcha

CHALLENGE = re.compile(r'<altcha-widget[^>]*\schallenge="([^"]+)"')


def challenge_in(page: str) -> str | None:
    """The challenge JSON the login page gives its widget, or None."""
    found = CHALLENGE.search(page)
    return html.unescape(found.group(1)) if found else None


def solve(page: str) -> str:
    """The answer (the widget's base64 payload) to the page's challenge."""
    import json

    challenge = altcha.Challenge.from_dict(json.loads(challenge_in(page)))
    solution = altcha.solve_challenge(challenge)
    assert solution is not None
    return altcha.Payload(challenge, solution).to_base64()
