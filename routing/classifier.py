"""Classify one request: category, priority and assisting agencies from the model's heads, the
readable rules as a floor under the priority, district and place from the address."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any, Final

from agencies import CATEGORIES, PRIORITIES, Priority
from routing.cues import CUES_BY_CODE, find_cues
from routing.danger import SIGNS_BY_CODE, find_signs
from routing.gazetteer import Gazetteer, Place
from routing.geo import locate_district
from routing.lexicon import words_of
from routing.model import Model, Prediction, load_model
from routing.rules import decide, decide_assisting, decide_priority, more_urgent, priority_floor
from routing.sign_detector import SignDetector
from routing.text import normalise

# The priority head says P1 when P1 is at least this probable (a missed P1 costs more than a
# P2 that comes early), P2 at least when P1 is at least ``P2_AT_LEAST``. Chosen on the
# development examples (docs/routing.md). A model may name its own P1 cut (``p1_above`` in its
# metadata, chosen at training time for P1 recall on development examples).
P1_ABOVE: Final = 0.3
P2_AT_LEAST: Final = 0.1
# An agency assists when the assisting head gives it at least this probability, unless the
# model names a threshold of its own for that agency (``assist_above`` in its metadata, chosen
# on development examples by ``routing.training``).
ASSIST_ABOVE: Final = 0.35

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
    uncertain: bool = False  # calibrated confidence under the model's threshold: ask the call-taker
    place: Place | None = None  # the gazetteer's place the address names, if any

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
            "uncertain": self.uncertain,
            "place": self.place.to_dict() if self.place else None,
        }


def _keywords(prediction: Prediction, normalised: str, limit: int = 3) -> list[str]:
    """Words of the text that pushed the winner most: lexicon words first, then long n-grams."""
    chosen: list[str] = []
    top = prediction.evidence[0][1] if prediction.evidence else 0.0
    for gram, weight in prediction.evidence:
        if gram.startswith("#"):
            candidates = words_of(normalised, gram[1:])[:2]
        elif gram[:1] in ("!", "~"):  # a danger sign or a cue: the caller's words that showed it
            words = find_signs(normalised).get(gram[1:]) if gram[0] == "!" else _cue_words(gram[1:], normalised)
            candidates = [words] if words else []
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


def _cue_words(code: str, normalised: str) -> str | None:
    cue = CUES_BY_CODE.get(code)
    return cue.find(normalised) if cue is not None else None


def shown_indicators(normalised: str, detector: SignDetector | None = None) -> tuple[str, ...]:
    """The priority head's named indicators a normalised text shows: danger signs found by the
    readable lists (``!trapped``), urgency cues (``~past``) and, with a ``detector``, the signs it
    finds (``?trapped``)."""
    found = tuple(f"!{code}" for code in find_signs(normalised)) + tuple(f"~{code}" for code in find_cues(normalised))
    if detector is None:
        return found
    return found + tuple(f"?{code}" for code in detector.detect(normalised))


def priority_indicators_shown(normalised: str, default: str, detector: SignDetector | None = None) -> tuple[str, ...]:
    """The priority head's indicators a normalised text shows for a category whose default is
    ``default``: each danger sign and urgency cue, and each again paired with the default
    (``P2!trapped``), since being trapped moves a P2 category further than a P1 one and a
    linear head cannot form that product itself."""
    shown = shown_indicators(normalised, detector)
    return shown + tuple(f"{default}{name}" for name in shown)


def assist_evidence(
    model: Model, prediction: Prediction, category: str, normalised: str
) -> tuple[dict[str, float], dict[str, str]]:
    """What decides the assisting agencies of a call classified as ``category``: the assisting
    head's probability per agency (never the lead), informed by what the readable assisting
    rules add and the signs and cues when the head was trained with them, and the agencies the
    rules add, each with its reason."""
    lead = CATEGORIES[category].agency
    rule_agencies, why = decide_assisting(category, normalised)
    added = {a: r for a, r in zip(rule_agencies, why, strict=False) if a != lead}
    active = tuple(f"+{a}" for a in added) + shown_indicators(normalised, model.signs)
    probabilities = {a: p for a, p in model.assisting_given(prediction, active) if a != lead}
    return probabilities, added


def priority_probabilities(prediction: Prediction, category: str, target: str) -> dict[str, float]:
    """P1..P4 probabilities from the priority head; a "delta" head's steps from the default of
    ``category`` are added up per priority they land on."""
    if target != "delta" or not prediction.priorities:
        return dict(prediction.priorities)
    default = PRIORITIES.index(CATEGORIES[category].default_priority)
    probs: dict[str, float] = dict.fromkeys(PRIORITIES, 0.0)
    for steps, p in prediction.priorities:
        probs[PRIORITIES[min(max(default + int(steps), 0), 3)]] += p
    return probs


def p1_cut(model: Model) -> float:
    """The P(P1) from which the priority head says P1: the model's own, else ``P1_ABOVE``."""
    return float(model.meta.get("p1_above", P1_ABOVE))


def model_priority_probabilities(
    model: Model, prediction: Prediction, category: str, normalised: str
) -> dict[str, float]:
    """P1..P4 from the priority head for a call classified as ``category``, informed by the
    readable rules' priority, the category's default and the signs and cues shown."""
    ruled, _ = decide_priority(category, normalised)
    default = CATEGORIES[category].default_priority
    informed = replace(
        prediction,
        priorities=model.priority_given(
            prediction,
            PRIORITIES.index(ruled),
            PRIORITIES.index(default),
            priority_indicators_shown(normalised, default, model.signs),
        ),
    )
    return priority_probabilities(informed, category, str(model.meta.get("priority_target", "absolute")))


def _detected_reasons(detector: SignDetector | None, normalised: str) -> list[str]:
    """A reason per danger sign the learned detector reads that the readable lists did not find."""
    if detector is None:
        return []
    listed = find_signs(normalised)
    return [
        f"模型读出“{SIGNS_BY_CODE[code].label}”的迹象（{p:.2f}）"
        for code, p in detector.detect(normalised).items()
        if code not in listed
    ]


def _model_priority(probs: dict[str, float], p1_above: float = P1_ABOVE) -> Priority | None:
    """The priority head's decision, leaning towards urgency (see ``P1_ABOVE``)."""
    if not probs:
        return None
    if probs.get("P1", 0.0) >= p1_above:
        return "P1"
    best: Priority = max(PRIORITIES, key=lambda p: probs.get(p, 0.0))
    if probs.get("P1", 0.0) >= P2_AT_LEAST and best in ("P3", "P4"):
        return "P2"
    return best


def classify(
    text: str,
    address: str | None = None,
    district: str | None = None,
    model: Model | None = None,
    gazetteer: Gazetteer | None = None,
) -> Classification:
    """Suggest category, lead and assisting agencies, priority, district and place for a request.

    ``text`` is the request as told (colloquial, dialect and transcription errors are fine);
    ``address`` and ``district`` only locate it, with ``gazetteer`` (places with coordinates)
    when given. Uses the shipped model unless ``model`` is given. Never raises on odd input:
    an empty text gets the model's prior, low confidence and ``uncertain``.
    """
    model = model or default_model()
    prediction = model.predict(text if text.strip() else (address or ""))
    category = prediction.best
    confidence = prediction.probabilities[prediction.best_index]
    uncertain = confidence < model.uncertain_below
    ranked = prediction.ranked(3)
    reasons: list[str] = []
    normalised = normalise(text)
    keywords = _keywords(prediction, normalised)
    if keywords:
        quoted = "".join(f"“{k}”" for k in keywords)
        reasons.append(f"关键词{quoted} → {category}（置信度 {confidence:.2f}）")
    else:
        reasons.append(f"没有可识别的关键词 → {category}（置信度 {confidence:.2f}）")
    if uncertain and len(ranked) > 1:
        runner, p = ranked[1]
        reasons.append(f"把握不大，次选 {runner}（{p:.2f}），请接警员确认")
    lead = CATEGORIES[category].agency
    probs = model_priority_probabilities(model, prediction, category, normalised)
    decided = _model_priority(probs, p1_cut(model))
    if decided is None:  # a model without heads: the rules decide alone, as they used to
        outcome = decide(category, normalised)
        priority, assisting = outcome.priority, outcome.assisting
        reasons.extend(outcome.reasons)
    else:
        reasons.append(f"模型判断 {decided}（P1 {probs.get('P1', 0.0):.2f}）")
        reasons.extend(_detected_reasons(model.signs, normalised))
        floor, why = priority_floor(category, normalised, find_signs(normalised))
        priority = more_urgent(decided, floor)
        if priority != decided:
            reasons.extend(why)
        probabilities, added = assist_evidence(model, prediction, category, normalised)
        above = model.assist_above
        chosen = []
        for agency, p in probabilities.items():
            if p >= above.get(agency, ASSIST_ABOVE):
                chosen.append(agency)
                reasons.append(f"模型判断需协办 {agency}（{p:.2f}）")
        if not model.assist_learns_rules:  # the head did not learn the rules: they add on their own
            for agency, reason in added.items():
                if agency not in chosen:
                    chosen.append(agency)
                    reasons.append(reason)
        else:  # the head weighed the rules; their reason explains an agency it chose
            reasons.extend(reason for agency, reason in added.items() if agency in chosen)
        assisting = tuple(chosen)
    place = gazetteer.match(address or "") if gazetteer is not None and address else None
    # The gazetteer's place is more specific than a name found in the address text.
    if place is not None and not district:
        found_district: str | None = place.district
    else:
        found_district = locate_district(address, district)
    return Classification(
        category=category,
        agency=lead,
        agencies=(lead, *assisting),
        priority=priority,
        confidence=confidence,
        reasons=tuple(reasons),
        district=found_district,
        alternatives=tuple(r for r in ranked if r[0] != category),
        uncertain=uncertain,
        place=place,
    )
