"""The figures bench/filter_eval.py prints (and writes as JSON): what the
filter did with each comment when it was stored, by label, against issue 26's
targets.

Each result row has ``source``, ``spam`` (its label), ``status`` (as stored:
spam, pending, approved), ``held`` (the held reasons of its signals) and
``decided_before`` (how many moderator decisions the site had when it came).
"""

# (key, what is counted, among): a comment stored as spam is not "held".
FIGURES = [
    ("spam_as_spam", "spam stored as spam", "spam"),
    ("spam_caught", "spam stored or held", "spam"),
    ("real_as_spam", "real stored as spam", "real"),
    ("real_held_spam", 'real held "looks like spam"', "real"),
    ("real_held", "real held (any reason)", "real"),
]
# Issue 26's targets, after the first 500 decisions.
TARGETS = {
    "spam_as_spam": (">=", 0.85),
    "spam_caught": (">=", 0.95),
    "real_as_spam": ("<=", 0.005),
    "real_held_spam": ("<=", 0.03),
}
LOOKS_LIKE_SPAM = "looks_like_spam"


def counted(row: dict) -> dict[str, bool]:
    """Which figures *row* counts in."""
    as_spam = row["status"] == "spam"
    held = bool(row["held"]) and not as_spam
    if row["spam"]:
        return {"spam_as_spam": as_spam, "spam_caught": as_spam or held}
    return {
        "real_as_spam": as_spam,
        "real_held_spam": held and LOOKS_LIKE_SPAM in row["held"],
        "real_held": held,
    }


def figures(rows: list[dict]) -> dict:
    """``{"spam": n, "real": n, key: {"count", "share"}}`` over *rows*."""
    out = {"spam": sum(r["spam"] for r in rows)}
    out["real"] = len(rows) - out["spam"]
    for key, _, among in FIGURES:
        count = sum(counted(r).get(key, False) for r in rows)
        total = out[among]
        out[key] = {"count": count, "share": count / total if total else None}
    return out


def verdicts(result: dict) -> dict[str, bool]:
    """Each target met (True) or not, by figure key."""
    met = {}
    for key, (op, goal) in TARGETS.items():
        share = result[key]["share"]
        if share is None:
            met[key] = False
        else:
            met[key] = share >= goal if op == ">=" else share <= goal
    return met


def _pct(value: float | None, width=7) -> str:
    return f"{'—':>{width}}" if value is None else f"{value:{width}.1%}"


HEADER = (
    f"{'':24}{'spam':>6}{'as spam':>9}{'or held':>9} |{'real':>6}{'as spam':>9}"
    f"{'held LLS':>10}{'held any':>10}"
)


def line(label: str, result: dict) -> str:
    shares = [result[key]["share"] for key, _, _ in FIGURES]
    return (
        f"{label[:24]:24}{result['spam']:>6}{_pct(shares[0], 9)}{_pct(shares[1], 9)} |"
        f"{result['real']:>6}{_pct(shares[2], 9)}{_pct(shares[3], 10)}"
        f"{_pct(shares[4], 10)}"
    )


def target_line() -> str:
    goals = [TARGETS.get(key) for key, _, _ in FIGURES]
    cells = [
        ""
        if g is None
        else f"{'≥' if g[0] == '>=' else '≤'}{g[1]:.1%}".replace(".0%", "%")
        for g in goals
    ]
    return (
        f"{'target':24}{'':6}{cells[0]:>9}{cells[1]:>9} |{'':6}{cells[2]:>9}"
        f"{cells[3]:>10}{cells[4]:>10}"
    )


def verdict_line(met: dict[str, bool]) -> str:
    cells = [
        "" if key not in met else ("PASS" if met[key] else "FAIL")
        for key, _, _ in FIGURES
    ]
    return (
        f"{'verdict':24}{'':6}{cells[0]:>9}{cells[1]:>9} |{'':6}{cells[2]:>9}"
        f"{cells[3]:>10}{cells[4]:>10}"
    )


def by_source(rows: list[dict], names: list[str]) -> dict[str, dict]:
    """The figures of each source in *names* that has rows."""
    present = {r["source"] for r in rows}
    return {
        name: figures([r for r in rows if r["source"] == name])
        for name in names
        if name in present
    }


def curve(rows: list[dict], step=100) -> list[dict]:
    """The figures per *step* comments, in the order they came."""
    return [
        {
            "from": start + 1,
            "to": min(start + step, len(rows)),
            **figures(rows[start : start + step]),
        }
        for start in range(0, len(rows), step)
    ]


def first_decisions(learning: list[dict], starter: list[dict], first: int) -> dict:
    """The comments that came before the site's *first*-th decision, as the
    learning site stored them and as the starter alone (a site deciding
    nothing, fed the same comments) stored them; the real comments the first
    held or stored as spam where the second did not."""
    early = [r for r in learning if r["decided_before"] < first]
    alone = {r["i"]: r for r in starter}
    early = [r for r in early if r["i"] in alone]
    pairs = [(r, alone[r["i"]]) for r in early]

    def flagged(row):
        c = counted(row)
        return c.get("real_as_spam") or c.get("real_held_spam")

    worse = [
        {
            "i": r["i"],
            "source": r["source"],
            "p": r["p"],
            "p_starter": s["p"],
            "body": r["body"][:80],
        }
        for r, s in pairs
        if not r["spam"] and flagged(r) and not flagged(s)
    ]
    mine = figures(early)
    theirs = figures([s for _, s in pairs])
    real_flagged = mine["real_as_spam"]["count"] + mine["real_held_spam"]["count"]
    real_flagged_alone = (
        theirs["real_as_spam"]["count"] + theirs["real_held_spam"]["count"]
    )
    return {
        "comments": len(early),
        "learning": mine,
        "starter": theirs,
        "real_flagged": real_flagged,
        "real_flagged_starter": real_flagged_alone,
        "met": real_flagged <= real_flagged_alone,
        "flagged_not_by_starter": worse,
    }


def figures_met(result: dict) -> bool:
    """Every target after the first decisions, and the first decisions' own."""
    return all(result["after"]["met"].values()) and result["first"]["met"]
