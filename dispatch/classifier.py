"""The classifier model in service: the shipped one, or the newest retrained one stored in
PostgreSQL (``dispatch classifier retrain``), picked up by every process within seconds."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path
from typing import Any

import asyncpg
import structlog
from aiohttp import web

import routing
from dispatch.runtime.app_keys import DB
from dispatch.runtime.tasks import stop_task

log = structlog.get_logger("dispatch.classifier")

REFRESH_S = 5.0


class ModelInService:
    """The model this process classifies with, and the id of the stored one it came from."""

    def __init__(self) -> None:
        self.model: routing.Model | None = None  # None: the shipped model
        self.model_id: int | None = None

    def current(self) -> routing.Model:
        return self.model or routing.default_model()

    async def refresh(self, pool: asyncpg.Pool | asyncpg.Connection) -> bool:
        """Load the newest stored model if it is not the one in service; True if it changed."""
        newest = await pool.fetchval("SELECT max(id) FROM classifier_models")
        if newest == self.model_id:
            return False
        if newest is None:  # the stored models were removed: back to the shipped one
            self.model, self.model_id = None, None
            return True
        blob = await pool.fetchval("SELECT model FROM classifier_models WHERE id = $1", newest)
        self.model = await asyncio.to_thread(model_from_bytes, blob)
        self.model_id = newest
        log.info("classifier.loaded", model_id=newest)
        return True


IN_SERVICE = ModelInService()


def current_model() -> routing.Model:
    """The model ticket creation and ``POST /classify`` use in this process."""
    return IN_SERVICE.current()


def model_to_bytes(model: routing.Model) -> bytes:
    from routing.model import save_arrays

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "model.npz"
        save_arrays(model, path)
        return path.read_bytes()


def model_from_bytes(blob: bytes) -> routing.Model:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "model.npz"
        path.write_bytes(blob)
        return routing.load_model(path)


async def classifier_context(app: web.Application) -> AsyncIterator[None]:
    """Keep the process's model current (an owned background task)."""

    async def follow() -> None:
        while True:
            try:
                await IN_SERVICE.refresh(app[DB])
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, routing.ModelFormatError) as exc:
                log.warning("classifier.refresh_failed", error=repr(exc))
            await asyncio.sleep(REFRESH_S)

    task = asyncio.get_running_loop().create_task(follow(), name="classifier-refresh")
    yield
    await stop_task(task)


async def corrections(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    """Tickets whose proposed classification a call-taker overrode, as training examples."""
    rows = await conn.fetch(
        """
        SELECT t.description, t.address, t.district, t.category, t.priority, e.data->'agencies' AS agencies
        FROM tickets t
        JOIN events e ON e.ticket_id = t.id AND e.type = 'ticket.created'
        WHERE t.category IS NOT NULL
          AND jsonb_array_length(coalesce(t.classification->'overridden', '[]'::jsonb)) > 0
        ORDER BY t.id
        """
    )
    return [
        {
            "text": r["description"],
            "address": r["address"],
            "district": r["district"] or "",
            "category": r["category"],
            "priority": r["priority"],
            "also": list(r["agencies"] or [])[1:],
        }
        for r in rows
    ]


def _scores(report: Any) -> dict[str, float]:
    return {
        name: round(float(getattr(report, name)), 4)
        for name in ("lead_accuracy", "category_accuracy", "priority_accuracy", "assist_precision", "assist_recall")
        if hasattr(report, name)
    }


async def retrain(
    conn: asyncpg.Connection, *, base_corpus: Iterable[str | Path] | None = None, store: bool = True
) -> dict[str, Any]:
    """Retrain on the corpus plus recorded corrections; report held-out scores before and
    after; store the new model (the service loads it within seconds) unless ``store`` is False."""
    from routing import training

    examples = await corrections(conn)
    current = IN_SERVICE
    await current.refresh(conn)
    corpus = list(base_corpus) if base_corpus else list(training.TRAINING_PATHS)
    new_model, before, after = await asyncio.to_thread(
        training.retrain, corpus, examples, training.HELDOUT_PATH, current.current()
    )
    result: dict[str, Any] = {
        "corrections": len(examples),
        "before": _scores(before),
        "after": _scores(after),
        "model_id": None,
    }
    if store:
        blob = await asyncio.to_thread(model_to_bytes, new_model)
        result["model_id"] = await conn.fetchval(
            """INSERT INTO classifier_models (model, corrections, heldout_before, heldout_after)
               VALUES ($1, $2, $3, $4) RETURNING id""",
            blob,
            len(examples),
            result["before"],
            result["after"],
        )
    return result


def classify_lines(
    lines: Iterable[str], model: routing.Model, gazetteer: routing.Gazetteer | None = None
) -> Iterable[Mapping[str, Any] | str]:
    """``dispatch classify``: each JSON line (``text``, ``address``, ``district``, ``id``) to
    the contract's result; a line that is not a request, or whose text is empty or names
    nothing (only punctuation, digits or symbols), yields an error object."""
    import orjson

    from routing.text import meaningful

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            request = orjson.loads(line)
            if not isinstance(request, dict) or not isinstance(request.get("text"), str):
                raise ValueError("a line is a JSON object with a text field")
            if not request["text"].strip():
                raise ValueError("text: must not be empty")
            if not meaningful(request["text"]):
                raise ValueError("text: names nothing to classify (no words, only punctuation, digits or symbols)")
            result = routing.classify(
                request["text"],
                address=request.get("address") or None,
                district=request.get("district") or None,
                model=model,
                gazetteer=gazetteer,
            )
        except (ValueError, orjson.JSONDecodeError) as exc:
            yield {"id": None, "line": number, "error": str(exc)}
            continue
        yield {
            "id": request.get("id"),
            "category": result.category,
            "agency": result.agency,
            "agencies": list(result.agencies),
            "priority": result.priority,
            "confidence": round(result.confidence, 4),
            "uncertain": result.uncertain,
            "reasons": list(result.reasons),
            "district": result.district,
            "place": result.place.to_dict() if result.place else None,
        }
