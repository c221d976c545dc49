"""What the service logs during a test, for tests that assert the log holds no traceback.

structlog's loggers keep the stream they were configured with, so the session configures
logging once onto a :class:`LogTap`: it writes through to the current ``sys.stderr`` (pytest
shows it with a failure, as before) and to any buffer a test has opened on it.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager

# What only an unhandled error writes: a traceback, or the lines that announce one.
UNHANDLED_MARKERS = (
    "Traceback (most recent call last)",
    "request.failed",
    "Unhandled exception",
    "Error handling request",
    "bug.data_exception",
)


class LogTap(io.TextIOBase):
    """A text stream that copies every write to ``sys.stderr`` and to the open buffers."""

    def __init__(self) -> None:
        self._buffers: list[io.StringIO] = []

    def write(self, text: str) -> int:
        sys.stderr.write(text)
        for buffer in self._buffers:
            buffer.write(text)
        return len(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return False

    @contextmanager
    def capture(self) -> Iterator[io.StringIO]:
        """A buffer of everything logged while the block runs."""
        buffer = io.StringIO()
        self._buffers.append(buffer)
        try:
            yield buffer
        finally:
            self._buffers.remove(buffer)


def unhandled(log_text: str) -> list[str]:
    """The lines of ``log_text`` that tell of an unhandled error (empty when there is none)."""
    return [line for line in log_text.splitlines() if any(marker in line for marker in UNHANDLED_MARKERS)]


LOG_TAP = LogTap()
