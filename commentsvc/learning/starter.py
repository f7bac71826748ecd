"""The starter model shipped with the package: what a new site's filter
knows before its moderators have taught it anything.

Built by ``scripts/train_starter_model.py`` from the public corpora in
``data/spam`` (their licences are in data/spam/README.md); its numbers are in
``starter-model.npy`` (LinearModel.to_bytes: no pickle) and what it was
trained on, with its store threshold, in ``starter-model.json``.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from .model import LinearModel

HERE = Path(__file__).parent
STATE = HERE / "starter-model.npy"
META = HERE / "starter-model.json"


@dataclass(frozen=True)
class Starter:
    model: LinearModel
    # The lowest probabilities the starter alone stores as spam, and holds.
    spam_floor: float
    hold_floor: float
    meta: dict


def load(state: Path = STATE, meta: Path = META) -> Starter:
    """Read the starter model from its files.

    Raises:
        BrokenModel: the state is not a model.
        OSError, ValueError: a file is missing or its metadata is not JSON.
    """
    info = json.loads(meta.read_text(encoding="utf-8"))
    model = LinearModel.from_bytes(state.read_bytes())
    return Starter(model, float(info["spam_floor"]), float(info["hold_floor"]), info)


def model() -> Starter:
    """The starter model, read once per process (the app's SPAM_STARTER_MODEL
    can point at another, for tests)."""
    found = current_app.extensions.get("commentsvc.starter_model")
    if found is None:
        path = current_app.config.get("SPAM_STARTER_MODEL")
        if path:
            path = Path(path)
            found = load(path, path.with_suffix(".json"))
        else:
            found = load()
        current_app.extensions["commentsvc.starter_model"] = found
    return found
