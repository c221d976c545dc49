"""Classify one request: category from the model, then priority, agencies and district from rules."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Final

from agencies import CATEGORIES, Priority
from routing.geo import locate_district
from routing.lexicon import words_of
from routing.model import Model, Prediction, load_model
from routing.rules import decide
from routing.text import normalise

# Below this probability the call-taker is told that the suggestion is shaky.
LOW_CONFIDENCE: Final = 0.5

_default: Model | None = None
_default_lock = threading.Lock()


def default_model() -> Model:
    """The shipped model, loaded on first use and shared afterwards."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = load_model()
    return _default


@dataclass(frozen=True, slots=True)
class Classification:
    """What routing suggests for a request; a call-taker may confirm or correct it."""

    category: str
    agency: str  # lead (主办)
    agencies: tuple[str, ...]  # lead first, then assisting (协办)
    priority: Priority
    confidence: float  # model probability of ``category``, 0..1
    reasons: tuple[str, ...]  # short, Chinese, human-readable
    district: str | None = None  # district code, when the address or field names one
    alternatives: tuple[tuple[str, float], ...] = field(default=())  # runner-up categories

    @property
    def assisting(self) -> tuple[str, ...]:
        """The assisting agencies (all but the lead)."""
        return self.agencies[1:]

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``dispatch classify`` and ``POST /classify`` (plus extras)."""
        return {
            "category": self.category,
            "agency": self.agency,
            "agencies": list(self.agencies),
            "priority": self.priority,
            "confidence": round(self.confidence, 4),
            "reasons": list(self.reasons),
            "district": self.district,
            "alternatives": [{"category": c, "probability": round(p, 4)} for c, p in self.alternatives],
        }


def _keywords(prediction: Prediction, normalised: str, limit: int = 3) -> list[str]:
    """Words of the text that pushed the winner most: lexicon words first, then long n-grams."""
    chosen: list[str] = []
    top = prediction.evidence[0][1] if prediction.evidence else 0.0
    for gram, weight in prediction.evidence:
        if gram.startswith("#"):
            candidates = words_of(normalised, gram[1:])[:2]
        elif len(gram) >= 2 and weight >= top / 2 and not any(set(gram) & set(other) for other in chosen):
            candidates = [gram]
        else:
            continue
        for word in candidates:
            if any(word in other for other in chosen):
                continue
            chosen = [other for other in chosen if other not in word]
            chosen.append(word)
        if len(chosen) >= limit:
            break
    return chosen[:limit]


def classify(
    text: str,
    address: str | None = None,
    district: str | None = None,
    model: Model | None = None,
) -> Classification:
    """Suggest category, lead and assisting agencies, priority and district for a request.

    ``text`` is the request as told (colloquial, dialect and transcription errors are fine);
    ``address`` and ``district`` only locate it. Uses the shipped model unless ``model`` is
    given. Never raises on odd input: an empty text gets the model's prior and low confidence.
    """
    model = model or default_model()
    prediction = model.predict(text if text.strip() else (address or ""))
    category = prediction.best
    confidence = prediction.probabilities[prediction.best_index]
    ranked = prediction.ranked(3)
    reasons: list[str] = []
    normalised = normalise(text)
    keywords = _keywords(prediction, normalised)
    if keywords:
        quoted = "".join(f"“{k}”" for k in keywords)
        reasons.append(f"关键词{quoted} → {category}（置信度 {confidence:.2f}）")
    else:
        reasons.append(f"没有可识别的关键词 → {category}（置信度 {confidence:.2f}）")
    if confidence < LOW_CONFIDENCE and len(ranked) > 1:
        runner, p = ranked[1]
        reasons.append(f"把握不大，次选 {runner}（{p:.2f}），请接警员确认")
    outcome = decide(category, normalised)
    lead = CATEGORIES[category].agency
    reasons.extend(outcome.reasons)
    return Classification(
        category=category,
        agency=lead,
        agencies=(lead, *outcome.assisting),
        priority=outcome.priority,
        confidence=confidence,
        reasons=tuple(reasons),
        district=locate_district(address, district),
        alternatives=tuple(r for r in ranked if r[0] != category),
    )
