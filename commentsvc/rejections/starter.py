"""The starter shipped with the package: what a new site's reject model knows
before its moderators have approved or rejected anything.

Built by ``scripts/build_reject_starter.py`` from public lexicons and our own
hand-written lists (each source and licence in data/rejections/README.md): a
LinearModel over the spam filter's hashed features, with weights on word and
word-pair columns only (never on character n-grams, so "Scunthorpe",
"class" and "assess" carry none of the words inside them). Its numbers are in
``starter-model.npy`` (LinearModel.to_bytes: no pickle), what it was built
from in ``starter-model.json``.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from ..learning.model import LinearModel

HERE = Path(__file__).parent
STATE = HERE / "starter-model.npy"
META = HERE / "starter-model.json"


@dataclass(frozen=True)
class Starter:
    model: LinearModel
    meta: dict


def load(state: Path = STATE, meta: Path = META) -> Starter:
    """Read the starter from its files.

    Raises:
        BrokenModel: the state is not a model.
        OSError, ValueError: a file is missing or its metadata is not JSON.
    """
    info = json.loads(meta.read_text(encoding="utf-8"))
    return Starter(LinearModel.from_bytes(state.read_bytes()), info)


def model() -> Starter:
    """The starter, read once per process (REJECT_STARTER_MODEL can point at
    another, for tests).

    Raises:
        BrokenModel, OSError, ValueError: see :func:`load`.
    """
    found = current_app.extensions.get("commentsvc.reject_starter")
    if found is None:
        path = current_app.config.get("REJECT_STARTER_MODEL")
        if path:
            path = Path(path)
            found = load(path, path.with_suffix(".json"))
        else:
            found = load()
        current_app.extensions["commentsvc.reject_starter"] = found
    return found
