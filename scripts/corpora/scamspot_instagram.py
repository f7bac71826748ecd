"""Build data/spam/scamspot_instagram.csv from the ScamSpot Instagram comments.

Source: github.com/ScamSpot/scamspot_ig-comment-scraper (MIT, Copyright (c)
2023 Stefan Erben), file ``data/comments_extracted.json``: comments scraped
from finance and crypto Instagram accounts (2023), rated by hand as ``scam``
or ``real`` with the repository's ``comment_rater.py`` (some pre-rated
``scam`` by its phrase list, ``data_prep2.py``). ``scam`` becomes ``spam``,
``real`` becomes ``ham``; unrated (``unknown``) comments are left out. The
source keeps no author names, and its text is already lower-cased.

    git clone https://github.com/ScamSpot/scamspot_ig-comment-scraper /tmp/ss
    python scripts/corpora/scamspot_instagram.py \
        /tmp/ss/data/comments_extracted.json > data/spam/scamspot_instagram.csv
"""

import csv
import json
import sys

LABELS = {"scam": "spam", "real": "ham"}


def main(path: str) -> None:
    with open(path, encoding="utf-8") as f:
        comments = json.load(f)
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["label", "author", "content"])
    for comment in comments.values():
        label = LABELS.get(comment["type"])
        if label:
            out.writerow([label, "", comment["text"]])


if __name__ == "__main__":
    main(sys.argv[1])
