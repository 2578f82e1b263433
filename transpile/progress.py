"""A progress line on stderr for long transpiles.

A transpile that runs longer than ``DELAY`` seconds says on stderr what it is doing,
``transpile: lowering 4,000/10,000 nodes``, rewritten in place (at most every
``INTERVAL`` seconds) and cleared at the end.  Only when stderr is a terminal: logs,
pipes and tests see nothing.
"""

import contextlib
import sys
import time

DELAY = 3.0
INTERVAL = 0.5

_current = None


class Progress:
    def __init__(self, stream, delay: float = DELAY, interval: float = INTERVAL):
        self.stream, self.delay, self.interval = stream, delay, interval
        self.start = time.perf_counter()
        self.shown = 0.0  # when the line was last written (0: never)
        self.width = 0

    def update(self, text: str, force: bool = False) -> None:
        now = time.perf_counter()
        if now - self.start < self.delay or (not force and now - self.shown < self.interval):
            return
        line = f"transpile: {text}"
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()
        self.shown, self.width = now, len(line)

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()


@contextlib.contextmanager
def reporting(stream=None):
    """Report the stages of the transpile inside ``with`` (nested uses: the outer)."""
    global _current
    stream = sys.stderr if stream is None else stream
    if _current is not None or not getattr(stream, "isatty", lambda: False)():
        yield
        return
    _current = Progress(stream)
    try:
        yield
    finally:
        _current.close()
        _current = None


def stage(name: str, done: int | None = None, total: int | None = None) -> None:
    """Now in stage ``name`` (``done`` of ``total`` items, when counted)."""
    if _current is None:
        return
    if total is None:
        _current.update(name, force=True)
    else:
        _current.update(f"{name} {done:,}/{total:,} nodes", force=done == 0)
