"""The one text cleaner: whatever it returns can be stored, and written as JSON and XML 1.0."""

from __future__ import annotations

import json
from xml.etree import ElementTree

from hypothesis import given
from hypothesis import strategies as st

from dispatch.normalise import clean_text


def test_clean_text_removes_characters_xml_cannot_carry() -> None:
    assert clean_text("井盖\ufffe丢了\uffff\x00\x07") == "井盖丢了"


def test_clean_text_removes_noncharacters_and_lone_surrogates() -> None:
    assert clean_text("a\ufdd0b\U0010fffe\U0001ffffc\ud800d") == "abcd"


def test_clean_text_keeps_tab_newline_and_every_script() -> None:
    assert clean_text(" 路灯\t不亮\nstreet light 😀 ") == "路灯\t不亮\nstreet light 😀"


@given(st.text())
def test_cleaned_text_survives_an_xml_and_json_round_trip(raw: str) -> None:
    text = clean_text(raw)
    element = ElementTree.fromstring(ElementTree.tostring(_element(text)))
    assert (element.text or "") == text.replace("\r", "")
    assert json.loads(json.dumps(text, ensure_ascii=False)) == text
    assert "\x00" not in text


def _element(text: str) -> ElementTree.Element:
    element = ElementTree.Element("description")
    element.text = text
    return element
