"""Every event type the service can write has a label in the consoles, Chinese and English, so
that no timeline shows a raw code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dispatch.event_types import EVENT_TYPES
from dispatch.store.events import NewEvent

I18N = Path(__file__).resolve().parents[2] / "dispatch" / "static" / "js" / "i18n.js"
LABEL = re.compile(r'^\s*"event\.([a-z_]+\.[a-z_]+)":\s*\["([^"]+)",\s*"([^"]+)"\]', re.MULTILINE)


def console_labels() -> dict[str, tuple[str, str]]:
    return {match[1]: (match[2], match[3]) for match in LABEL.finditer(I18N.read_text(encoding="utf-8"))}


def test_every_event_type_the_server_writes_has_a_console_label() -> None:
    labels = console_labels()
    assert sorted(EVENT_TYPES - labels.keys()) == []
    assert sorted(labels.keys() - EVENT_TYPES) == []  # a label for an event that no longer exists
    for zh, en in labels.values():
        assert re.search(r"[\u4e00-\u9fff]", zh) and en.isascii()


def test_an_event_of_an_unknown_type_is_refused_when_written() -> None:
    with pytest.raises(ValueError, match="unknown event type"):
        NewEvent("ticket.teleported", 1)
