"""HTML of an export reduced to our text form, and thread keys of pages."""

import pytest

from commentsvc.comments.render import render_body
from commentsvc.portability.clean import pathname
from commentsvc.portability.keys import BadKeyMap, ThreadKeys, read_key_map
from commentsvc.portability.text import html_to_text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("plain\n\ntext", "plain\n\ntext"),
        ("<p>one</p><p>two</p>", "one\n\ntwo"),
        ("a<br>b<br/>c", "a\nb\nc"),
        ('<a href="https://x.example/p">word</a>', "word (https://x.example/p)"),
        (
            '<a href="https://x.example/p">https://x.example/p</a>',
            "https://x.example/p",
        ),
        ('<a href="javascript:alert(1)">click</a>', "click"),
        ("<script>alert(1)</script>kept", "kept"),
        ("<style>p{}</style><b>bold</b> &amp; <i>it</i>", "bold & it"),
        ('<img src=x onerror="alert(1)">after', "after"),
        ("I &lt;3 you &#8230;", "I <3 you …"),
        ("<blockquote>quoted</blockquote>reply", "quoted\n\nreply"),
        ("<ul><li>one</li><li>two</li></ul>", "one\n\ntwo"),
    ],
)
def test_html_to_text(html, text):
    assert html_to_text(html) == text


def test_what_survives_rendering():
    html = render_body(
        html_to_text(
            '<p onclick="x()">Hi <a href="https://a.example/" target="_blank">'
            'there</a></p><script src="https://evil.example/x.js"></script>'
            '<iframe src="https://evil.example/"></iframe><p>bye</p>'
        )
    )
    assert html == (
        '<p>Hi there (<a href="https://a.example/" rel="nofollow ugc noopener">'
        "https://a.example/</a>)</p><p>bye</p>"
    )


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("https://news.example/2015/03/hello/", "/2015/03/hello/"),
        ("https://news.example", "/"),
        ("https://news.example/a?b=1#c", "/a"),
        ("https://news.example/café/", "/caf%C3%A9/"),
        ("https://news.example/a%20b/", "/a%20b/"),
        ("https://news.example/中文", "/%E4%B8%AD%E6%96%87"),
    ],
)
def test_pathname_as_a_browser_gives_it(url, path):
    assert pathname(url) == path


def test_key_modes_and_map(tmp_path):
    url = "https://news.example/a/"
    assert ThreadKeys().key(url, "7") == "/a/"
    assert ThreadKeys("url").key(url, "7") == url
    assert ThreadKeys("id").key(url, "7") == "7"
    assert ThreadKeys("id").key(url, "") == "/a/"
    assert ThreadKeys("path", {url: "mapped"}).key(url) == "mapped"

    good = tmp_path / "map.csv"
    good.write_text("url,key\nhttps://news.example/a/,a\n\n")
    assert read_key_map(good) == {"https://news.example/a/": "a"}
    bad = tmp_path / "bad.csv"
    bad.write_text("https://news.example/a/\n")
    with pytest.raises(BadKeyMap, match="line 1: expected url,key"):
        read_key_map(bad)


def test_a_key_map_key_no_page_could_ask_for_is_refused(tmp_path):
    # A key with control characters (or over 512 characters) was stored: a
    # thread that no listing can name, since the API refuses such keys.
    for key in ("a\x01b", "tab\there", "k" * 600):
        path = tmp_path / "map.csv"
        path.write_text(f"url,key\nhttps://news.example/a/,{key}\n")
        with pytest.raises(BadKeyMap, match="line 2: "):
            read_key_map(path)
