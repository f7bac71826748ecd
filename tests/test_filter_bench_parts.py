"""The evaluation bench's own parts, without a server: which corpora it reads
(and which it never picks up), and how it counts what the filter did."""

import sys
from pathlib import Path

import pytest

# bench/ is scripts, not a package installed with the service.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import eval_corpora, eval_figures  # noqa: E402
from bench.eval_corpora import CorpusError, discovered, read_corpus  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def test_reads_the_uci_csv_layout_and_tsv_lines(tmp_path):
    uci = tmp_path / "video.csv"
    uci.write_text(
        "COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n"
        'a,Ann,2015,"Check out my channel\x92s videos",1\n'
        "b,Bob,2015,Great song,0\n",
        encoding="utf-8",
    )
    rows = read_corpus(uci)
    assert [(r["author"], r["spam"]) for r in rows] == [("Ann", True), ("Bob", False)]
    assert rows[0]["body"] == "Check out my channel's videos"  # C1 quote mended

    tsv = tmp_path / "sms.tsv"
    tsv.write_text("ham\tone\nspam\ttwo\nham\tthree\nspam\tfour\n", encoding="utf-8")
    assert [r["body"] for r in read_corpus(tsv, "even")] == ["two", "four"]
    assert [r["body"] for r in read_corpus(tsv, "odd")] == ["one", "three"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("label,content\nmaybe,hello\n", "unknown label 'maybe'"),
        ("label,text\nspam,hello\n", "no content column"),
        ("kind,content\nspam,hello\n", "no label"),
    ],
)
def test_a_corpus_it_cannot_read_is_named_with_the_reason(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CorpusError, match=message):
        read_corpus(path)
    with pytest.raises(CorpusError, match="no such file"):
        read_corpus(tmp_path / "missing.csv")


def test_the_readme_table_adds_evaluation_files_but_never_reserved_ones(tmp_path):
    for name in ("blogs.csv", "train.tsv", "KatyPerry.csv", "halves.tsv"):
        (tmp_path / name).write_text("label,content\nham,x\n", encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text(
        "| file | licence | starter model | evaluation (`bench/filter_eval.py`) |\n"
        "|---|---|---|---|\n"
        "| `blogs.csv` | CC BY 4.0 | — | all 1,000 |\n"
        "| `train.tsv` | CC0 | all | — |\n"
        "| `KatyPerry.csv` | CC BY 4.0 | — | all 350 |\n"
        "| `halves.tsv` | CC0 | lines 1, 3, 5… | lines 2, 4, 6… |\n"
        "| `absent.csv` | CC0 | — | all |\n",
        encoding="utf-8",
    )
    found = {name: lines for name, _, lines, _ in discovered(readme)}
    assert found == {"blogs": "all", "halves": "even"}


def test_the_repository_readme_adds_nothing_the_table_has_not():
    # Every corpus listed there is in DEFAULT_CORPORA already.
    assert discovered() == []
    names = [name for name, *_ in eval_corpora.DEFAULT_CORPORA]
    assert names == ["psy", "scamspot", "fox", "sms"]


def test_the_default_stream_holds_no_row_the_starter_learned():
    """The starter learned SMS lines 1, 3, 5…, ScamSpot rows 1,201 on and
    Fox News rows 701 on (scripts/train_starter_model.py); the evaluation
    replays the others."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "train_starter_model", ROOT / "scripts" / "train_starter_model.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    sources, _ = eval_corpora.default_sources()
    for name, path, *_ in eval_corpora.DEFAULT_CORPORA:
        file = Path(path).name
        if file not in script.CORPORA:
            continue
        learned = {
            r["n"]
            for r in eval_corpora.read_corpus(ROOT / path, script.CORPORA[file][1])
        }
        replayed = {r["n"] for r in sources[name]}
        assert replayed and not replayed & learned, name


def _row(i, spam, status="pending", held=(), source="a", decided_before=0, p=0.1):
    return {
        "i": i,
        "spam": spam,
        "status": status,
        "held": list(held),
        "source": source,
        "decided_before": decided_before,
        "p": p,
        "body": f"comment {i}",
    }


def test_the_figures_count_a_comment_once_and_held_reasons_apart():
    rows = [
        _row(0, True, "spam", held=["looks_like_spam"]),  # as spam, not held
        _row(1, True, held=["watch_words"]),  # held for another reason
        _row(2, True),
        _row(3, False, "spam", held=["looks_like_spam"]),  # as spam only
        _row(4, False, held=["looks_like_spam"]),
        _row(5, False, held=["too_many_links"]),
        _row(6, False),
        _row(7, False),
    ]
    result = eval_figures.figures(rows)
    assert (result["spam"], result["real"]) == (3, 5)
    counts = {key: result[key]["count"] for key, _, _ in eval_figures.FIGURES}
    assert counts == {
        "spam_as_spam": 1,
        "spam_caught": 2,
        "real_as_spam": 1,
        "real_held_spam": 1,
        "real_held": 2,
    }
    met = eval_figures.verdicts(result)
    assert met == {
        "spam_as_spam": False,  # 33 % < 85 %
        "spam_caught": False,
        "real_as_spam": False,  # 20 % > 0.5 %
        "real_held_spam": False,
    }
    assert eval_figures.verdicts(eval_figures.figures([_row(0, True, "spam")]))[
        "spam_as_spam"
    ]


def test_the_first_decisions_are_compared_comment_by_comment_with_the_starter():
    learning = [
        _row(0, False, held=["looks_like_spam"], decided_before=0, p=0.4),
        _row(1, False, decided_before=1),
        _row(2, True, "spam", decided_before=2),
        _row(3, False, "spam", decided_before=3),  # after the first 3
    ]
    starter = [_row(0, False, p=0.2), _row(1, False), _row(2, True), _row(3, False)]
    first = eval_figures.first_decisions(learning, starter, 3)
    assert first["comments"] == 3
    assert (first["real_flagged"], first["real_flagged_starter"]) == (1, 0)
    assert first["met"] is False
    assert [
        (w["i"], w["p"], w["p_starter"]) for w in first["flagged_not_by_starter"]
    ] == [(0, 0.4, 0.2)]
    assert eval_figures.first_decisions(starter, starter, 3)["met"] is True
