"""Wall-clock bounds that hold on a slow or busy machine.

A test that checks a timeout asserts that an operation is bounded by the
configured timeout, not that the machine is fast. A bound is written as what an
idle machine needs (the bound the test used to assert) and the part of it that
is configured waiting (timeouts, delays): timers fire on time however busy the
machine is, but the work around them (starting a request, a process, a thread,
parsing, the database) takes longer on a loaded one, so only that part is
stretched, by SLACK.

Set COMMENTSVC_TEST_SLACK (default 3) higher on a very slow machine, or to 1 to
check the bounds an idle machine meets.
"""

import os


def _slack() -> float:
    raw = os.environ.get("COMMENTSVC_TEST_SLACK", "").strip()
    value = float(raw) if raw else 3.0
    if value < 1:
        raise ValueError(f"COMMENTSVC_TEST_SLACK must be at least 1, not {raw!r}")
    return value


SLACK = _slack()


def within(idle: float, *, waits: float = 0.0) -> float:
    """The longest, in seconds, an operation may take here that takes under
    *idle* seconds on an idle machine, of which *waits* are configured waiting
    (timeouts it sits out, delays it is told to make)."""
    if waits > idle:
        raise ValueError("the configured waits cannot exceed the idle bound")
    return waits + (idle - waits) * SLACK


def generous(seconds: float) -> float:
    """A timeout for waiting on something that should happen (a page to load, a
    process to start): a bound on how long a broken run takes to fail, never on
    how fast a working one is, so it is stretched whole."""
    return seconds * SLACK


def clear_of_a_minute_boundary(seconds: float = 5.0) -> None:
    """Wait until the next *seconds* stay inside one clock minute: rate limits
    count in fixed windows, and a window starting in the middle of a test
    starts its counts again (a loaded run once crossed one between two reads)."""
    import time

    left = 60 - time.time() % 60
    if left < seconds:
        time.sleep(left + 0.05)
