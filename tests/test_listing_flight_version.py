"""A rebuild shared across processes is filed under the site's and the thread's
version: a reader who asks after an invalidation never gets the page a build
that started before it made (issue 25: the suite missed single-flight results
not keyed by version)."""

import threading
import uuid

import pytest

from commentsvc.comments import cache, flight

OLD = ("old", b"built before the change")
NEW = ("new", b"built after the change")


@pytest.mark.parametrize("whole_site", [False, True])
def test_a_reader_after_an_invalidation_gets_a_page_built_after_it(
    make_app, whole_site
):
    app = make_app(READ_CACHE_TTL=60, LISTING_REBUILD_WAIT=5)
    thread = f"/article-{uuid.uuid4().hex[:8]}"
    building, release = threading.Event(), threading.Event()
    first = {}

    def old_build():
        building.set()
        release.wait(10)
        return OLD

    def before_the_change():
        with app.app_context():
            first["page"] = flight.shared("news", thread, "|", old_build)

    builder = threading.Thread(target=before_the_change)
    builder.start()
    try:
        assert building.wait(10), "the first build never started"
        with app.app_context():
            # The change commits while the old build is in flight.
            cache.invalidate("news", None if whole_site else thread)
            # The old build ends while the reader would be waiting for it.
            threading.Timer(0.3, release.set).start()
            after = flight.shared("news", thread, "|", lambda: NEW)
    finally:
        release.set()
        builder.join(10)

    assert first["page"] == OLD
    assert after == NEW
