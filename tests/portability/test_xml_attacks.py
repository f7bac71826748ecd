"""XML attacks are refused with one clear line, and nothing is stored."""

import time

import pytest

from .conftest import DATA, counts


@pytest.mark.parametrize("kind", ["wordpress", "disqus"])
@pytest.mark.parametrize(
    "name", ["bomb.xml", "external-entity.xml", "external-dtd.xml"]
)
def test_refused_with_a_clear_message_and_nothing_stored(app, runner, site, kind, name):
    started = time.monotonic()
    result = runner.invoke(args=["import", kind, str(DATA / name), "--site", "news"])
    assert time.monotonic() - started < 5
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error")]
    assert len(errors) == 1
    assert "refused: the file declares a DTD or entities" in errors[0]
    assert "Traceback" not in result.output
    with app.app_context():
        assert counts() == (0, 0)


def test_broken_xml_is_one_line_too(app, runner, site, tmp_path):
    broken = tmp_path / "broken.xml"
    broken.write_text("<rss><channel><item><title>unclosed</channel></rss>")
    result = runner.invoke(args=["import", "wordpress", str(broken), "--site", "news"])
    assert result.exit_code == 1
    assert "error: " in result.output and "not well-formed XML" in result.output
