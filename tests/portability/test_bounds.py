"""What a hostile or odd file cannot do to an import: take memory in
proportion to its nesting or width, end in a traceback, or take quadratic
time; and what an export writes is readable by its owner only."""

import json
import os
import stat
import time
import tracemalloc

import pytest

from commentsvc.portability import disqus, native, wordpress
from commentsvc.portability.keys import ThreadKeys
from commentsvc.portability.text import html_to_text
from commentsvc.portability.xmlstream import MAX_DEPTH, MAX_NAMES, BadImportFile

from .conftest import counts, run

MB = 1024 * 1024
WXR_HEAD = (
    '<?xml version="1.0"?><rss xmlns:wp="http://wordpress.org/export/1.2/">'
    "<channel><item><title>T</title><link>https://n.example/a</link>"
)
WXR_COMMENT = (
    "<wp:comment><wp:comment_id>{i}</wp:comment_id>"
    "<wp:comment_author>A</wp:comment_author>"
    "<wp:comment_date_gmt>2015-03-02 11:00:00</wp:comment_date_gmt>"
    "<wp:comment_content>Hi</wp:comment_content>"
    "<wp:comment_approved>1</wp:comment_approved>{extra}</wp:comment>"
)
WXR_TAIL = "</item></channel></rss>"
DISQUS_HEAD = (
    '<?xml version="1.0"?><disqus xmlns="http://disqus.com" '
    'xmlns:dsq="http://disqus.com/disqus-internals">'
    '<thread dsq:id="1"><link>https://n.example/a</link></thread>'
)
DISQUS_POST = (
    '<post dsq:id="{i}"><message>Hi</message><createdAt>2015-03-02T14:00:00Z'
    '</createdAt><author><name>A</name></author><thread dsq:id="1"/>{extra}</post>'
)


def _groups(size: int) -> str:
    group = "".join(f"<x{n}/>" for n in range(2000))
    return "".join(f"<g{k}>{group}</g{k}>" for k in range(size // len(group)))


def _files(tmp_path, size=MB // 2):
    """Deep and wide WordPress and Disqus files of about *size* bytes."""
    deep = "<x>" * (size // 7) + "</x>" * (size // 7)
    wide = "<x/>" * (size // 4)
    return {
        "wxr-deep": ("wordpress", WXR_HEAD + WXR_COMMENT.format(i=1, extra=deep)),
        "wxr-wide-comment": (
            "wordpress",
            WXR_HEAD + WXR_COMMENT.format(i=1, extra=wide) + WXR_TAIL,
        ),
        # Wide where no comment is: the channel and the item.
        "wxr-wide-channel": (
            "wordpress",
            WXR_HEAD.replace("<item>", wide + "<item>")
            + wide
            + WXR_COMMENT.format(i=1, extra="")
            + WXR_TAIL,
        ),
        "wxr-wide-field": (
            "wordpress",
            WXR_HEAD
            + WXR_COMMENT.format(
                i=1, extra="<wp:comment_type>comment</wp:comment_type>" * (size // 40)
            )
            + WXR_TAIL,
        ),
        # Children of many names, none of them a field.
        "wxr-wide-names": (
            "wordpress",
            WXR_HEAD
            + WXR_COMMENT.format(
                i=1, extra="".join(f"<x{n}/>" for n in range(size // 9))
            )
            + WXR_TAIL,
        ),
        # Fewer names than the cap, in groups: nothing of it is a field.
        "wxr-wide-groups": (
            "wordpress",
            WXR_HEAD + WXR_COMMENT.format(i=1, extra=_groups(size)) + WXR_TAIL,
        ),
        "disqus-deep": ("disqus", DISQUS_HEAD + DISQUS_POST.format(i=2, extra=deep)),
        # A field a post reads, repeated: the last one wins.
        "disqus-wide-field": (
            "disqus",
            DISQUS_HEAD
            + DISQUS_POST.format(i=2, extra="<isSpam/>" * (size // 9))
            + "</disqus>",
        ),
        "disqus-wide": (
            "disqus",
            DISQUS_HEAD + DISQUS_POST.format(i=2, extra=wide) + "</disqus>",
        ),
    }


def _read_all(kind, path):
    if kind == "wordpress":
        items = wordpress.read(path, ThreadKeys())
    else:
        items = disqus.read(path, ThreadKeys())
    return list(items)


@pytest.mark.parametrize(
    "name",
    [
        "wxr-deep",
        "wxr-wide-comment",
        "wxr-wide-channel",
        "wxr-wide-field",
        "wxr-wide-names",
        "wxr-wide-groups",
        "disqus-deep",
        "disqus-wide",
        "disqus-wide-field",
    ],
)
def test_memory_stays_bounded_on_deep_and_wide_xml(tmp_path, name):
    kind, text = _files(tmp_path)[name]
    path = tmp_path / f"{name}.xml"
    path.write_text(text)
    tracemalloc.start()
    try:
        try:
            found = _read_all(kind, path)
        except BadImportFile as error:
            found = error
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Freed as read, under 1 MB; before, 10 to 21 MB (an element per tag:
    # a 7 MB file took 400 MB).
    assert peak < 6 * MB, f"{name}: peak {peak / MB:.1f} MB"
    if name.endswith("deep"):
        assert isinstance(found, BadImportFile)
        assert f"nested more than {MAX_DEPTH} levels deep" in str(found)
    elif name.endswith("names"):
        assert isinstance(found, BadImportFile)
        assert f"more than {MAX_NAMES} distinct element" in str(found)
    else:
        assert [c.key for c in found] == [f"{kind}:{1 if kind == 'wordpress' else 2}"]


def test_the_last_of_repeated_fields_still_wins(tmp_path):
    extra = "<wp:comment_author>B</wp:comment_author>"
    path = tmp_path / "x.xml"
    path.write_text(WXR_HEAD + WXR_COMMENT.format(i=1, extra=extra) + WXR_TAIL)
    (comment,) = _read_all("wordpress", path)
    assert comment.author == "B"


def test_a_file_as_deep_as_exports_go_imports(app, runner, site, tmp_path):
    # Under the cap: a comment whose extra field nests a little.
    extra = "<wp:commentmeta>" + "<x>" * 10 + "</x>" * 10 + "</wp:commentmeta>"
    path = tmp_path / "ok.xml"
    path.write_text(WXR_HEAD + WXR_COMMENT.format(i=1, extra=extra) + WXR_TAIL)
    run(runner, "import", "wordpress", path, "--site", "news")
    with app.app_context():
        assert counts() == (1, 1)


@pytest.mark.parametrize("kind", ["wordpress", "disqus"])
def test_a_deep_xml_file_is_one_line_and_a_non_zero_exit(
    app, runner, site, tmp_path, kind
):
    name = "wxr-deep" if kind == "wordpress" else "disqus-deep"
    text = _files(tmp_path, size=200_000)[name][1]
    path = tmp_path / "deep.xml"
    path.write_text(text)
    result = runner.invoke(args=["import", kind, str(path), "--site", "news"])
    assert result.exit_code == 1
    assert f"nested more than {MAX_DEPTH} levels deep" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "body",
    [
        '{"format":"commentsvc-export","version":1,"records":[' + "[" * 100_000,
        '{"format":"commentsvc-export","version":1,"records":['
        + '{"type":"comment","signals":'
        + '{"a":' * 5000
        + "1"
        + "}" * 5000
        + "}]}",
        # Under what Python's decoder takes, over what a record needs.
        '{"format":"commentsvc-export","version":1,"records":['
        + '{"type":"comment","signals":'
        + "[" * 500
        + "]" * 500
        + "}]}",
        '{"format":"commentsvc-export","version":1,"deep":'
        + "[" * 3000
        + "]" * 3000
        + ',"records":[]}',
    ],
    ids=["unclosed", "deep-signals", "500-deep-signals", "deep-header"],
)
def test_deep_json_is_one_line_and_a_non_zero_exit(app, runner, site, tmp_path, body):
    path = tmp_path / "deep.json"
    path.write_text(body)
    result = runner.invoke(args=["import", "commentsvc", str(path), "--site", "news"])
    assert result.exit_code == 1, result.output
    assert "nested more than" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_json_as_deep_as_an_export_needs_imports(tmp_path):
    record = {
        "type": "comment",
        "signals": {"a": {"b": {"c": [[{"d": 1}]]}}},
    }
    path = tmp_path / "ok.json"
    path.write_text(
        json.dumps({"format": native.FORMAT, "version": 1, "records": [record]})
    )
    found = list(native.records(path))
    assert found[1] == record


def _nested_links(n: int) -> str:
    return '<a href="https://x.example/">' * n + "text" + "</a>" * n


def _seconds(html: str) -> float:
    # CPU time of this process, the best of five: what other processes on a
    # busy machine do moves wall time, hardly this.
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        html_to_text(html)
        best = min(best, time.process_time() - started)
    return best


@pytest.mark.parametrize(
    "make",
    [
        _nested_links,
        lambda n: '<a href="https://x.example/">word ' * n,
        lambda n: " " * n + "x",
        lambda n: "\n" + " \t" * (n // 2) + "x",
    ],
    ids=["nested-links", "unclosed-links", "spaces", "newline-then-spaces"],
)
def test_link_text_takes_linear_time(make):
    # Eight times the input: quadratic takes 64 times as long (16,000 nested
    # links took 3.6 s), linear eight times; 24 leaves a noisy machine room.
    small, large = _seconds(make(2_000)), _seconds(make(16_000))
    assert large / small < 24, f"{small:.4f}s -> {large:.4f}s"


def test_nested_links_keep_their_addresses():
    html = '<a href="https://a.example/x">see <a href="https://b.example/y">b</a></a>'
    text = html_to_text(html)
    assert "https://a.example/x" in text and "https://b.example/y" in text


def test_export_files_are_readable_by_their_owner_only(app, runner, site, tmp_path):
    old = os.umask(0o022)
    try:
        fresh = tmp_path / "site.json"
        run(runner, "export", "news", "--out", fresh)
        existing = tmp_path / "author.json"
        existing.write_text("old")
        existing.chmod(0o644)
        run(runner, "comments", "export-author", "ann@example.org", "--out", existing)
    finally:
        os.umask(old)
    for path in (fresh, existing):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert json.loads(path.read_text())  # written whole, not appended
