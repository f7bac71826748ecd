"""bench/filter_eval.py's printed report, from the figures its JSON holds."""

from bench.eval_figures import (
    HEADER,
    TARGETS,
    figures_met,
    line,
    target_line,
    verdict_line,
)


def print_report(result: dict) -> None:
    run, after, first = result["run"], result["after"], result["first"]
    print(f"corpora: {'; '.join(run['corpora'])}")
    print(
        f"replayed {run['comments']} comments (seed {run['seed']}) through gunicorn, "
        f"PostgreSQL and Redis; {run['decisions']} moderator decisions through "
        "/moderation/decide; the trainer `flask --app wsgi spam worker`, waited "
        f"for every {run['sync_every']} decisions"
    )
    confirm = (
        "confirms spam already stored as spam (--confirm-spam)"
        if run["confirm_spam"]
        else "leaves spam already stored as spam alone (--no-confirm-spam)"
    )
    print(f"the moderator {confirm}; revision {run['revision']}")

    print("\n1. The learning curve, per 100 comments as they came")
    print(HEADER.replace(" " * 24, f"{'comments':24}", 1))
    for step in result["curve"]:
        print(line(f"{step['from']}-{step['to']}", step))

    print(
        f"\n2. After the first {run['after']} decisions: comments "
        f"{after['from'] or '—'}-{run['comments']} ({after['comments']})"
    )
    print(HEADER)
    for name, figures in after["by_source"].items():
        print(line(name, figures))
    print(line("overall", after["overall"]))
    print(target_line())
    print(verdict_line(after["met"]))
    print(
        '  (LLS: held as "looks like spam"; "or held": for any reason; a '
        "comment stored as spam is not counted as held)"
    )

    print(
        f"\n3. The first {run['first']} decisions ({first['comments']} comments) "
        "against the starter alone (a site deciding nothing, same comments)"
    )
    print(HEADER)
    print(line("this site", first["learning"]))
    print(line("the starter alone", first["starter"]))
    verdict = "PASS" if first["met"] else "FAIL"
    print(
        f"  real comments flagged (stored as spam or held LLS): "
        f"{first['real_flagged']} against {first['real_flagged_starter']} for "
        f"the starter alone (target: no more): {verdict}"
    )
    for worse in first["flagged_not_by_starter"][:5]:
        print(
            f"    #{worse['i'] + 1} {worse['source']}: {worse['p']} (starter "
            f"{worse['p_starter']}) {worse['body']!r}"
        )

    met = figures_met(result)
    print(
        f"\nthe four targets after {run['after']} decisions: "
        f"{'PASS' if all(after['met'].values()) else 'FAIL'} "
        f"({sum(after['met'].values())} of {len(TARGETS)}); the first "
        f"{run['first']} decisions: {verdict}; all: {'PASS' if met else 'FAIL'}"
    )
    print(
        f"took {run['seconds']:.0f} s ({run['waited_for_trainer']:.0f} s waiting "
        "for the trainer); medians: a post (with its form token) {post} ms, a "
        "decision's POST {decide} ms".format(**run["median_ms"])
    )
