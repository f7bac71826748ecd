"""Build data/spam/fox_news_comments.csv from the Fox News User Comments corpus.

Source: github.com/sjtuprog/fox-news-comments (MIT; README: "The dataset is
under MIT License."), file ``fox-news-comments.json``: 1,528 reader comments on
ten foxnews.com articles (2016), one JSON object per line, each hand-labelled
hateful (1) or not (0). None of them is spam, so every row is written as
``ham``; the hateful flag is not kept (it stays in the source, same order).

    git clone https://github.com/sjtuprog/fox-news-comments /tmp/fox
    python scripts/corpora/fox_news.py /tmp/fox/fox-news-comments.json \
        > data/spam/fox_news_comments.csv
"""

import csv
import json
import sys


def main(path: str) -> None:
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["label", "author", "content"])
    with open(path, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            out.writerow(["ham", row["user"], row["text"]])


if __name__ == "__main__":
    main(sys.argv[1])
