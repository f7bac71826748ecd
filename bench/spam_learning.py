"""The learning spam filter's evaluation: now bench/filter_eval.py (issue 26),
which replays the corpora through the HTTP API with the moderator deciding in
the queue over HTTP. This name still runs it, with the same options.

    .venv/bin/python bench/spam_learning.py [--corpus NAME=FILE ...] [--limit N]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.filter_eval import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
