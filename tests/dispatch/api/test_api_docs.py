"""docs/api.md lists the required and optional fields of every JSON request body, as the models
that validate them say (the section is written by ``python -m dispatch.api.body_fields``)."""

from __future__ import annotations

from pathlib import Path

from dispatch.api.body_fields import END, START, current_section

API_DOC = Path(__file__).parents[3] / "docs" / "api.md"


def test_the_request_body_fields_in_the_api_docs_are_those_the_models_check() -> None:
    text = API_DOC.read_text(encoding="utf-8")
    assert START in text and END in text
    documented = START + text.split(START, 1)[1].split(END, 1)[0] + END + "\n"
    assert documented == current_section(), "run: python -m dispatch.api.body_fields docs/api.md"


def test_the_ticket_create_body_says_which_fields_are_required() -> None:
    section = current_section().split("### `POST /api/v1/tickets`", 1)[1].split("### ", 1)[0]
    assert "| `description` | **required** |" in section
    assert "| `caller` | **required** |" in section
    assert "| `caller.phone` | optional |" in section and "| `category` | optional |" in section
