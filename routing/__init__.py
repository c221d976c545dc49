"""Pure routing decisions for 民生110: classify, prioritise, choose agencies, desks and duplicates.

Text and facts in, decisions out: nothing here does network or database I/O, and nothing here
imports the service. Training and evaluation tools live in ``routing.training`` and are not
imported by this package.
"""

from __future__ import annotations

from routing.address import address_key, intersection, same_place
from routing.classifier import Classification, classify, default_model
from routing.danger import SIGNS, DangerSign, find_signs
from routing.desks import DeskInfo, choose_desk
from routing.duplicates import DuplicateMatch, TicketFacts, find_duplicates, related_categories, window
from routing.gazetteer import Gazetteer, GazetteerError, Place, parse_csv, to_csv
from routing.geo import distance_m, locate_district
from routing.model import DEFAULT_MODEL_PATH, Model, ModelFormatError, Prediction, load_model

__all__ = [
    "DEFAULT_MODEL_PATH",
    "SIGNS",
    "Classification",
    "DangerSign",
    "DeskInfo",
    "DuplicateMatch",
    "Gazetteer",
    "GazetteerError",
    "Model",
    "ModelFormatError",
    "Place",
    "Prediction",
    "TicketFacts",
    "address_key",
    "choose_desk",
    "classify",
    "default_model",
    "distance_m",
    "find_duplicates",
    "find_signs",
    "intersection",
    "load_model",
    "locate_district",
    "parse_csv",
    "related_categories",
    "same_place",
    "to_csv",
    "window",
]
