"""The project's copy of the taxonomy (docs/taxonomy.md) and the code that owns it agree."""

from __future__ import annotations

import re
from pathlib import Path

import agencies

TAXONOMY = Path(__file__).resolve().parents[2] / "docs" / "taxonomy.md"


def _category_rows() -> dict[str, tuple[str, str]]:
    """code → (lead, default priority) from the category table of docs/taxonomy.md."""
    rows: dict[str, tuple[str, str]] = {}
    for line in TAXONOMY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and re.fullmatch(r"`[a-z]+\.[a-z_]+`", cells[0]):
            rows[cells[0].strip("`")] = (cells[2], cells[3])
    return rows


def test_every_category_of_the_taxonomy_has_its_lead_and_default_priority_in_code() -> None:
    rows = _category_rows()
    assert set(rows) == set(agencies.CATEGORIES)
    for code, (lead, default) in rows.items():
        category = agencies.CATEGORIES[code]
        assert (category.agency, category.default_priority) == (lead, default), code


def test_a_traffic_accident_is_led_by_police_with_transport_among_its_assisting_agencies() -> None:
    accident = agencies.CATEGORIES["transport.accident"]
    assert accident.agency == "police"
    assert "transport" in accident.typical_assisting and "police" not in accident.typical_assisting
