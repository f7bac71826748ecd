"""Importing a 1,000,000-comment WordPress export: speed and bounded memory.

Generates a WXR file (streamed to disk in a temp dir: posts of 20 comments,
replies nested up to four levels, every status, some HTML, pingbacks), then
imports it with the real command (``import wordpress``) into a fresh database,
each size in a process of its own, and prints comments/s and the peak RSS
(``resource.getrusage``) of each. It asserts that memory is bounded: the peak
RSS grows by less than 300 MB over the process before the import, and the
largest size costs at most 1.5 times the memory of the smaller one (ten times
fewer comments).

    .venv/bin/python -m bench.import_large                       # SQLite
    .venv/bin/python -m bench.import_large --database postgresql # scratch PG
    .venv/bin/python -m bench.import_large --sizes 10000,100000  # quicker
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PER_POST = 20
MAX_GROWTH_MB = 300
MAX_RATIO = 1.5
WORDS = [
    *("the council vote budget housing transport river school election policy",
      "readers reporter evidence minister market weather season police court",
      "hospital energy prices village climate station library festival museum",
      "café 中文 مرحبا 😀"),
]  # fmt: skip
WORDS = " ".join(WORDS).split(" ")
STATUSES = ["1"] * 85 + ["0"] * 8 + ["spam"] * 5 + ["trash"] * 2


def _body(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 60))]
    if rng.random() < 0.2:
        words.insert(3, '<a href="https://example.org/page" rel="nofollow">a link</a>')
    if rng.random() < 0.1:
        words.append("<script>alert(1)</script>")
    text = " ".join(words)
    return text if rng.random() < 0.7 else f"<p>{text}</p><p>{text[:40]}</p>"


def generate(path: Path, comments: int, seed: int = 7) -> None:
    """Write a WXR 1.2 file of *comments* comments, a post at a time."""
    rng = random.Random(seed)
    next_id = 1
    with open(path, "w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
            "<title>Bench</title><link>https://news.example</link>\n"
        )
        post = 0
        while next_id <= comments:
            post += 1
            out.write(
                f"<item><title>Post {post}</title>"
                f"<link>https://news.example/{post // 1000}/post-{post}/</link>"
                f"<wp:post_id>{post}</wp:post_id>"
                "<content:encoded><![CDATA[<p>The post.</p>]]></content:encoded>\n"
            )
            ids: list[tuple[int, int]] = []  # (id, depth) of this post
            for _ in range(min(PER_POST, comments - next_id + 1)):
                parent, depth = 0, 0
                if ids and rng.random() < 0.5:
                    parent, depth = rng.choice(ids)
                    if depth >= 4:
                        parent, depth = 0, 0
                ids.append((next_id, depth + 1 if parent else 0))
                kind = "pingback" if rng.random() < 0.005 else "comment"
                minute = next_id % 60
                out.write(
                    "<wp:comment>"
                    f"<wp:comment_id>{next_id}</wp:comment_id>"
                    f"<wp:comment_author><![CDATA[Reader {rng.randint(1, 50000)}]]>"
                    "</wp:comment_author>"
                    "<wp:comment_author_email>"
                    f"r{rng.randint(1, 50000)}@example.org</wp:comment_author_email>"
                    f"<wp:comment_author_IP>192.0.2.{next_id % 250}"
                    "</wp:comment_author_IP>"
                    f"<wp:comment_date_gmt>2015-03-02 10:{minute:02d}:00"
                    "</wp:comment_date_gmt>"
                    f"<wp:comment_content><![CDATA[{_body(rng)}]]>"
                    "</wp:comment_content>"
                    "<wp:comment_approved>"
                    f"{rng.choice(STATUSES)}</wp:comment_approved>"
                    f"<wp:comment_type>{kind}</wp:comment_type>"
                    f"<wp:comment_parent>{parent}</wp:comment_parent>"
                    "</wp:comment>\n"
                )
                next_id += 1
            out.write("</item>\n")
        out.write("</channel>\n</rss>\n")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def child(path: str, database_url: str, redis_prefix: str) -> None:
    """In a process of its own: a fresh schema and site, then the import."""
    from flask_migrate import upgrade

    from commentsvc import create_app, sites
    from commentsvc.extensions import db

    app = create_app(
        {
            "SECRET_KEY": "bench-import-secret-key-0123456789abcdef",
            "DATABASE_URL": database_url,
            "REDIS_KEY_PREFIX": redis_prefix,
        }
    )
    with app.app_context():
        upgrade()
        sites.create_site("bench", "Bench", allowed_origins=["https://news.example"])
        db.session.remove()
    runner = app.test_cli_runner()
    before = _rss_mb()
    started = time.perf_counter()
    result = runner.invoke(args=["import", "wordpress", path, "--site", "bench"])
    seconds = time.perf_counter() - started
    if result.exit_code != 0:
        raise SystemExit(result.output + repr(result.exception))
    with app.app_context():
        stored = db.session.scalar(db.text("SELECT count(*) FROM comments"))
    print(
        json.dumps(
            {
                "seconds": seconds,
                "stored": stored,
                "rss_before_mb": before,
                "rss_peak_mb": _rss_mb(),
                "summary": [
                    line
                    for line in result.output.splitlines()
                    if line.startswith(("threads", "comments", "skipped", "replies"))
                ],
            }
        )
    )


def _database(kind: str, directory: Path, size: int):
    import contextlib

    if kind == "sqlite":
        return contextlib.nullcontext((f"sqlite:///{directory}/bench-{size}.db", "b:"))
    from bench.scratch import scratch_database

    if "://" in kind:
        return scratch_database(admin_url=kind)
    return scratch_database()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument(
        "--database",
        default="sqlite",
        help="sqlite (a file in the temp dir), postgresql (a scratch database "
        "on the local server), or an admin URL of a PostgreSQL server",
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    with tempfile.TemporaryDirectory(prefix="commentsvc-import-") as directory:
        directory = Path(directory)
        for size in sizes:
            path = directory / f"wxr-{size}.xml"
            started = time.perf_counter()
            generate(path, size)
            megabytes = path.stat().st_size / 1e6
            print(
                f"{size:>9,} comments: generated {megabytes:,.0f} MB in "
                f"{time.perf_counter() - started:.0f} s",
                flush=True,
            )
            with _database(args.database, directory, size) as (url, prefix):
                output = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "bench.import_large",
                        "--child",
                        str(path),
                        url,
                        prefix,
                    ],  # fmt: skip
                    cwd=ROOT,
                    env={**os.environ, "PYTHONPATH": str(ROOT)},
                    capture_output=True,
                    text=True,
                    check=False,
                )
            if output.returncode != 0:
                sys.exit(output.stderr[-3000:] + output.stdout[-3000:])
            found = json.loads(output.stdout.strip().splitlines()[-1])
            found["file_mb"] = megabytes
            results[size] = found
            path.unlink()
            growth = found["rss_peak_mb"] - found["rss_before_mb"]
            print(
                f"{size:>9,} comments: {found['stored']:,} stored in "
                f"{found['seconds']:.0f} s ({found['stored'] / found['seconds']:,.0f}"
                f" comments/s); peak RSS {found['rss_peak_mb']:.0f} MB "
                f"(+{growth:.0f} MB over {found['rss_before_mb']:.0f} MB before)",
                flush=True,
            )
            for line in found["summary"]:
                print(f"           {line}")
    print()
    print("| comments | file | time | comments/s | RSS before | peak RSS | growth |")
    print("|---|---|---|---|---|---|---|")
    for size, found in results.items():
        growth = found["rss_peak_mb"] - found["rss_before_mb"]
        print(
            f"| {size:,} | {found['file_mb']:,.0f} MB | {found['seconds']:.0f} s | "
            f"{found['stored'] / found['seconds']:,.0f} | "
            f"{found['rss_before_mb']:.0f} MB | {found['rss_peak_mb']:.0f} MB | "
            f"+{growth:.0f} MB |"
        )
    failures = []
    for size, found in results.items():
        if found["rss_peak_mb"] - found["rss_before_mb"] > MAX_GROWTH_MB:
            failures.append(f"{size:,}: RSS grew by more than {MAX_GROWTH_MB} MB")
    if len(results) > 1:
        small, large = min(results), max(results)
        ratio = results[large]["rss_peak_mb"] / results[small]["rss_peak_mb"]
        print(
            f"\npeak RSS, {large:,} vs {small:,} comments: "
            f"{results[large]['rss_peak_mb']:.0f} MB vs "
            f"{results[small]['rss_peak_mb']:.0f} MB, ratio {ratio:.2f} "
            f"(at most {MAX_RATIO})"
        )
        if ratio > MAX_RATIO:
            failures.append(f"peak RSS ratio {ratio:.2f} > {MAX_RATIO}")
    if failures:
        sys.exit("FAIL: " + "; ".join(failures))
    print("PASS: memory bounded")


if __name__ == "__main__":
    main()
