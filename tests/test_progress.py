"""Progress spans and cancellation."""

from __future__ import annotations

import threading
import time

import pytest

from spaceport.errors import Cancelled
from spaceport.progress import Progress


def test_spans_map_onto_the_parent_range():
    seen = []
    progress = Progress(lambda fraction, message: seen.append((round(fraction, 3), message)))
    progress.span(0.5, 1.0).span(0.0, 0.5).update(0.5, "quarter of the second half")
    progress.update(2.0, "clamped")
    assert seen == [(0.625, "quarter of the second half"), (1.0, "clamped")]


def test_cancel_is_shared_and_raises():
    progress = Progress()
    child = progress.span(0.2, 0.4)
    child.raise_if_cancelled()
    progress.cancel()
    with pytest.raises(Cancelled):
        child.raise_if_cancelled()


def test_forward_cancel_reaches_a_library_token():
    progress = Progress()
    fired = threading.Event()
    with progress.forward_cancel(fired.set, poll_s=0.01):
        progress.cancel()
        assert fired.wait(2.0)
    other = Progress()
    calls = []
    with other.forward_cancel(lambda: calls.append(1), poll_s=0.01):
        time.sleep(0.05)
    assert calls == []
