"""render_body: a comment's plain text to the safe HTML stored beside it."""

import re
import time
from html import unescape
from html.parser import HTMLParser

import nh3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commentsvc.comments.render import LINK_REL, render_body

REL = 'rel="nofollow ugc noopener"'


def link(url: str, text: str | None = None) -> str:
    return f'<a href="{url}" {REL}>{text or url}</a>'


class _Html(HTMLParser):
    """Records every tag and the text a browser would show."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []
        self.text = []
        self.other = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.text.append(data)

    def handle_comment(self, data):
        self.other.append(("comment", data))

    def handle_decl(self, decl):
        self.other.append(("declaration", decl))

    def handle_pi(self, data):
        self.other.append(("processing instruction", data))

    def unknown_decl(self, data):
        self.other.append(("unknown declaration", data))


def parse(html: str) -> _Html:
    parser = _Html()
    parser.feed(html)
    parser.close()
    return parser


def assert_inert(html: str) -> None:
    """Only <p>, <br> and <a href="http(s)..." rel="nofollow ugc noopener">."""
    parsed = parse(html)
    assert parsed.other == [], html
    for tag, attrs in parsed.tags:
        assert tag in {"p", "br", "a"}, html
        names = [name for name, _ in attrs]
        if tag == "a":
            assert sorted(names) == ["href", "rel"], html
            values = dict(attrs)
            assert values["href"].lower().startswith(("http://", "https://")), html
            assert values["rel"] == LINK_REL, html
        else:
            assert names == [], html


# --- escaping ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, html",
    [
        ("plain", "<p>plain</p>"),
        ("a < b > c & d", "<p>a &lt; b &gt; c &amp; d</p>"),
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        ("<b>bold</b>", "<p>&lt;b&gt;bold&lt;/b&gt;</p>"),
        ("&amp; stays literal", "<p>&amp;amp; stays literal</p>"),
        ("<!-- comment -->", "<p>&lt;!-- comment --&gt;</p>"),
    ],
)
def test_text_is_escaped(text, html):
    assert render_body(text) == html


def test_quotes_cannot_break_out_of_anything():
    html = render_body("\"onmouseover='x' <img src=x onerror=alert(1)>")

    assert_inert(html)
    assert "<img" not in html
    assert "".join(parse(html).text) == "\"onmouseover='x' <img src=x onerror=alert(1)>"


# --- paragraphs and line breaks ---------------------------------------------------


@pytest.mark.parametrize(
    "text, html",
    [
        ("one\n\ntwo", "<p>one</p><p>two</p>"),
        ("one\n\n\n\ntwo", "<p>one</p><p>two</p>"),
        ("one\n  \t\ntwo", "<p>one</p><p>two</p>"),
        ("one\r\n\r\ntwo", "<p>one</p><p>two</p>"),
        ("one\ntwo", "<p>one<br>two</p>"),
        ("one\r\ntwo\rthree", "<p>one<br>two<br>three</p>"),
        ("a\nb\n\nc", "<p>a<br>b</p><p>c</p>"),
        ("\n\n  padded  \n\n", "<p>padded</p>"),
        ("", ""),
        ("   \n\n \t ", ""),
    ],
)
def test_blank_lines_make_paragraphs_and_newlines_make_breaks(text, html):
    assert render_body(text) == html


# --- links -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, html",
    [
        ("https://example.com", f"<p>{link('https://example.com')}</p>"),
        ("http://example.com/a", f"<p>{link('http://example.com/a')}</p>"),
        (
            "see https://example.com/page now",
            f"<p>see {link('https://example.com/page')} now</p>",
        ),
        (
            "https://example.com/?a=1&b=2",
            f"<p>{link('https://example.com/?a=1&amp;b=2')}</p>",
        ),
        (
            "https://example.com/path#frag",
            f"<p>{link('https://example.com/path#frag')}</p>",
        ),
        ("HTTPS://EXAMPLE.COM", f"<p>{link('HTTPS://EXAMPLE.COM')}</p>"),
        (
            "two: https://a.example and https://b.example",
            f"<p>two: {link('https://a.example')} and {link('https://b.example')}</p>",
        ),
        (
            "line https://a.example\nnext",
            f"<p>line {link('https://a.example')}<br>next</p>",
        ),
    ],
)
def test_http_urls_become_nofollow_links(text, html):
    assert render_body(text) == html


@pytest.mark.parametrize("punctuation", [".", ",", ";", ":", "!", "?", "'", '"', "..."])
def test_trailing_punctuation_is_not_part_of_the_link(punctuation):
    html = render_body(f"Read https://example.com/page{punctuation}")

    assert html == f"<p>Read {link('https://example.com/page')}{punctuation}</p>"


def test_unbalanced_closing_parenthesis_is_not_part_of_the_link():
    assert render_body("(see https://example.com/page)") == (
        f"<p>(see {link('https://example.com/page')})</p>"
    )


def test_balanced_parentheses_stay_in_the_link():
    assert render_body("https://en.wikipedia.org/wiki/Flask_(web_framework)") == (
        f"<p>{link('https://en.wikipedia.org/wiki/Flask_(web_framework)')}</p>"
    )


def test_a_scheme_alone_is_not_a_link():
    assert render_body("http:// and https://") == "<p>http:// and https://</p>"


@pytest.mark.parametrize(
    "text",
    ["http://a:99999", "http://a|b", "http://[x", "http://ex%ample.com", "http://@"],
)
def test_a_url_that_cannot_be_followed_stays_text(text):
    # Not a link without a target: an <a> the final pass stripped of its href.
    assert render_body(text) == f"<p>{text}</p>"


@pytest.mark.parametrize(
    "text",
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "ftp://example.com/file",
        "//example.com/protocol-relative",
        "www.example.com",
        "mailto:ann@example.org",
        "file:///etc/passwd",
    ],
)
def test_other_schemes_are_never_links(text):
    html = render_body(text)

    assert "<a" not in html
    assert_inert(html)


@pytest.mark.parametrize(
    "text",
    [
        'https://example.com/"onmouseover="alert(1)',
        "https://example.com/'onmouseover='alert(1)'",
        "https://example.com/<script>alert(1)</script>",
        "https://example.com/`onmouseover=alert(1)`",
        "https://example.com/ onmouseover=alert(1)",
        "https://example.com/%22onmouseover=%22alert(1)",
        "javascript:https://example.com",
        "https://javascript:alert(1)@example.com",
        "https://example.com/&quot;onmouseover=&quot;alert(1)",
    ],
)
def test_a_url_cannot_break_out_of_its_attribute(text):
    html = render_body(text)

    assert_inert(html)
    assert "".join(parse(html).text) == text


# --- anything in, nothing executable out ------------------------------------------

# Characters that matter to HTML and to the URL matcher, mixed with any text.
_HTML_BITS = st.sampled_from(
    [
        "<",
        ">",
        "&",
        '"',
        "'",
        "`",
        "=",
        "/",
        "\n",
        "\r",
        "\n\n",
        " ",
        "\t",
        "http://",
        "https://",
        "HTTPS://",
        "javascript:",
        "data:",
        "<script>",
        "</p>",
        "<a href=",
        "onerror=",
        "&#",
        "&lt;",
        "<!--",
        "-->",
        "<![CDATA[",
        "(",
        ")",
        ".",
        "example.com",
        "\x00",
        "\u2028",
    ]
)
_ANY_TEXT = st.lists(st.one_of(_HTML_BITS, st.text(max_size=8)), max_size=40).map(
    "".join
)


@settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(_ANY_TEXT)
def test_any_text_renders_to_inert_html(text):
    html = render_body(text)

    assert_inert(html)


_PRINTABLE = st.text(
    st.characters(exclude_categories=["Cc", "Cs", "Zl", "Zp", "Co", "Cn"]),
    max_size=60,
)


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(st.one_of(_HTML_BITS.filter(lambda s: s.isprintable()), _PRINTABLE)))
def test_a_single_line_reads_exactly_as_typed(parts):
    text = "".join(parts).strip()

    html = render_body(text)

    assert "".join(parse(html).text) == text


# --- nothing executable, checked on the markup itself ------------------------------

# Every tag the output may hold, exactly as the renderer and nh3 write it.
_ALLOWED_TAG = re.compile(
    r'<p>|</p>|<br>|</a>|<a href="[^"<>`\s]*" rel="nofollow ugc noopener">'
)
_TAG = re.compile(r"<[^>]*>?")

# Ways to smuggle script past a sanitizer, mixed with any text.
_ATTACKS = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        "<scr<script>ipt>",
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>",
        "<svg><script>alert(1)</script></svg>",
        "<math><mi xlink:href=javascript:alert(1)>",
        "<iframe src=javascript:alert(1)>",
        "<iframe srcdoc='<script>alert(1)</script>'>",
        "<object data=data:text/html,x>",
        "<embed src=x>",
        "<style>*{background:url(javascript:alert(1))}</style>",
        "<link rel=stylesheet href=//evil.example>",
        "<meta http-equiv=refresh content='0;url=javascript:alert(1)'>",
        "<base href=//evil.example/>",
        "<form action=javascript:alert(1)><button>",
        '<a href="javascript:alert(1)">x</a>',
        "<a href='vbscript:msgbox(1)'>x</a>",
        '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
        '<a href="https://ok.example" onclick="alert(1)">x</a>',
        '<p style="background:url(javascript:alert(1))">',
        "<body onload=alert(1)>",
        "<details open ontoggle=alert(1)>",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "&#106;avascript:alert(1)",
        "&#x6A;avascript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html,<script>alert(1)</script>",
        'https://example.com/"onmouseover=alert(1)//',
        "https://example.com/'><script>alert(1)</script>",
        "https://example.com/`onerror=alert(1)`",
        "http://x/?a=<svg/onload=alert(1)>",
        "https://javascript:alert(1)@example.com",
        "<!--<script>-->",
        "<![CDATA[<script>alert(1)</script>]]>",
        "<?xml version='1.0'?>",
        "<!DOCTYPE html>",
        "\uff1cscript\uff1e",  # fullwidth < and >
        "%3Cscript%3Ealert(1)%3C/script%3E",
        "\x00<script>",
        "<\x00script>",
        "\u2028",
        "\ufeff",
        "</p><script>",
        "</a>",
        "<br/>",
        "<p>",
        '"',
        "'",
        "<",
        ">",
        "&",
        "=",
        " ",
        "\n",
        "\n\n",
        "https://",
        "http://",
    ]
)
_HOSTILE_TEXT = st.lists(
    st.one_of(_ATTACKS, st.text(max_size=6)), min_size=1, max_size=25
).map("".join)


def _reclean(html: str) -> str:
    return nh3.clean(
        html,
        tags={"p", "br", "a"},
        attributes={"a": {"href"}},
        url_schemes={"http", "https"},
        link_rel=LINK_REL,
    )


def assert_nothing_executable(html: str) -> None:
    """No tag but <p>, <br> and <a href="http(s)…" rel="nofollow ugc noopener">; no
    attribute but those; no "<" or ">" outside them; every href an http(s) URL
    (after entity decoding) with nothing that could end its attribute."""
    position = 0
    for tag in _TAG.finditer(html):
        assert "<" not in html[position : tag.start()], html
        assert ">" not in html[position : tag.start()], html
        assert _ALLOWED_TAG.fullmatch(tag.group(0)), (tag.group(0), html)
        position = tag.end()
    assert "<" not in html[position:] and ">" not in html[position:], html
    for tag, attrs in parse(html).tags:
        assert tag in {"p", "br", "a"}, html
        for name, value in attrs:
            assert not name.startswith("on"), html
            if name == "href":
                href = unescape(value)
                assert re.match(r"https?://[^\s]", href, re.IGNORECASE), html
                assert not re.search(r"[\s\"'<>`\x00-\x1f]", href), html
    assert_inert(html)


@settings(
    max_examples=500,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(_HOSTILE_TEXT)
def test_hostile_text_renders_to_nothing_executable(text):
    html = render_body(text)

    assert_nothing_executable(html)
    # Already in the sanitizer's normal form: a second, independent pass with
    # the same allow-list finds nothing to remove.
    assert _reclean(html) == html


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.sampled_from(["http://", "https://", "HTTP://", "hTTps://"]),
    st.text(
        st.characters(exclude_categories=["Cs"]),
        min_size=1,
        max_size=40,
    ),
)
def test_any_url_becomes_a_safe_link_or_stays_text(scheme, rest):
    html = render_body(f"see {scheme}{rest} now")

    assert_nothing_executable(html)
    for tag, attrs in parse(html).tags:
        if tag == "a":
            assert dict(attrs)["rel"] == LINK_REL


def _fastest(function, times=5) -> float:
    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def test_a_url_with_thousands_of_closing_parentheses_renders_in_linear_time():
    """Trailing ")" used to be trimmed one at a time, counting the parentheses
    again each time: 60,000 of them cost seconds. Growth, not a wall-clock
    bound: 16 times the input may cost about 16 times as much (quadratic would
    be 256), with four times that room for a loaded machine."""
    small = "see http://x.example/" + ")" * 4_000
    large = "see http://x.example/" + ")" * 64_000
    assert render_body(large).startswith(
        '<p>see <a href="http://x.example/" rel="nofollow ugc noopener">'
    )
    assert render_body(large).endswith(")" * 64_000 + "</p>")
    ratio = _fastest(lambda: render_body(large)) / _fastest(lambda: render_body(small))
    assert ratio < 64, ratio
