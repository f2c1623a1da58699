"""Progress and cancellation: the only thing a stage knows about the outside world.

A `Progress` forwards `update(fraction, message)` to a callback and answers
`raise_if_cancelled()` from a cancellation check. `span(start, end)` gives a child whose
fractions 0..1 map onto start..end of the parent, so each step of a stage reports its own
0..1 without knowing where it sits in the whole.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Callable, Iterator

from spaceport.errors import Cancelled

ProgressCallback = Callable[[float, str], None]


class Progress:
    """Reports fractions in [0, 1] with a message; carries the cancel flag.

    `on_update(fraction, message)` is called on every update (fraction of the whole job
    or stage, 0..1). `cancel_event` is set by whoever wants the work stopped.
    """

    def __init__(
        self,
        on_update: ProgressCallback | None = None,
        cancel_event: threading.Event | None = None,
    ) -> None:
        self._on_update = on_update or (lambda fraction, message: None)
        self.cancel_event = cancel_event or threading.Event()
        self._start, self._end = 0.0, 1.0

    def update(self, fraction: float, message: str) -> None:
        """Report `fraction` (0..1 of this span) done, with a short message."""
        fraction = min(max(fraction, 0.0), 1.0)
        self._on_update(self._start + fraction * (self._end - self._start), message)

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def raise_if_cancelled(self) -> None:
        if self.cancelled:
            raise Cancelled("stopped on request")

    def span(self, start: float, end: float) -> Progress:
        """A child reporting into [start, end] of this span; shares the cancel flag."""
        child = Progress(self._on_update, self.cancel_event)
        width = self._end - self._start
        child._start = self._start + start * width
        child._end = self._start + end * width
        return child

    @contextmanager
    def forward_cancel(self, cancel: Callable[[], None], poll_s: float = 0.2) -> Iterator[None]:
        """While the block runs, call `cancel()` once as soon as this progress is cancelled.

        Used to pass our cancel flag on to a library's own cancellation token; the
        library's InterruptedError then becomes our Cancelled.
        """
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                if self.cancel_event.wait(poll_s):
                    cancel()
                    return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            yield
        except InterruptedError:
            if self.cancelled:
                raise Cancelled("stopped on request") from None
            raise
        finally:
            done.set()
            watcher.join()
