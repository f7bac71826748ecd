"""The filter's two benches run (their --quick smoke runs, as subprocesses) and
print their tables: bench/filter_eval.py (the evaluation through the HTTP API,
the queue and the training worker) and bench/filter_cost.py (the filter's
share of a post's time). Both need PostgreSQL (a scratch database each)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BACKENDS

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.postgresql, pytest.mark.slow]


def _start(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, f"bench/{script}", "--quick", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen) -> str:
    try:
        out, err = process.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
    assert process.returncode == 0, f"{out[-3000:]}\n{err[-3000:]}"
    return out


def test_the_filter_benches_run_and_print_their_tables(tmp_path):
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL is not among COMMENTSVC_TEST_BACKENDS")
    figures = tmp_path / "figures.json"
    # Side by side (their own ports and scratch databases): half the wait.
    evaluation = _start("filter_eval.py", "--json", str(figures))
    cost = _start("filter_cost.py")
    out, costs = _finish(evaluation), _finish(cost)

    assert "quick run: OK" in out
    assert "1. The learning curve, per 100 comments" in out
    assert "2. After the first 10 decisions" in out
    assert "3. The first 10 decisions" in out
    for figure in ("overall", "target", "verdict", "≥85%", "≥95%", "≤0.5%", "≤3%"):
        assert figure in out
    assert "30 moderator decisions through /moderation/decide" in out
    result = json.loads(figures.read_text())
    assert result["run"]["comments"] == 30
    assert result["run"]["decisions"] == 30  # --confirm-spam: every comment
    assert result["run"]["trained_through"] >= result["run"]["latest_decision"] > 0
    overall = result["after"]["overall"]
    assert overall["spam"] + overall["real"] == result["after"]["comments"] > 0
    assert set(result["after"]["met"]) == {
        "spam_as_spam",
        "spam_caught",
        "real_as_spam",
        "real_held_spam",
    }

    assert "1. Server CPU per accepted post" in costs
    assert "the learning filter's share of a post:" in costs
    assert "2. cProfile (cpu clock), in process: share of a post's time" in costs
    assert costs.count("(target < 15%:") == 3
