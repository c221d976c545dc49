"""Addresses as callers say them, reduced to one form per place.

"解放大道与雪松路交叉口", "解放大道和雪松路路口", "雪松路跟解放大道十字" and "驿城区解放大道雪松路口" all
name one intersection; "3栋2单元", "三号楼二单元" and "3号楼2单元" one entrance. :func:`address_key`
turns each into the same key, so that duplicate detection and the gazetteer compare places,
not spellings. Pure functions of text.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Final

from agencies import DISTRICTS

# What a road's name ends with; an intersection is two of these joined.
ROAD_SUFFIXES: Final = ("大道", "大街", "路", "街", "道", "巷", "线")
_ROAD: Final = r"[\u4e00-\u9fff0-9]{1,8}?(?:大道|大街|路|街|巷|道|线)"
_JOIN: Final = r"(?:与|和|跟|同|及|、|/|x|×|\+|&)?"
# The ways of saying "the crossing": longest first so that 十字路口 wins over 路口.
_CROSSING: Final = r"(?:十字路口|交叉路口|交叉口|交汇处|交界处|交口|路口|十字|口)"
_INTERSECTION_RE: Final = re.compile(f"(?P<a>{_ROAD}){_JOIN}(?P<b>{_ROAD}){_CROSSING}")
# Two roads joined explicitly ("解放大道与雪松路") name the crossing even without 路口.
_JOINED_RE: Final = re.compile(f"(?P<a>{_ROAD})(?:与|和|跟|交)(?P<b>{_ROAD})(?![\u4e00-\u9fff]*(?:号|院|小区))")

# Prefixes that do not tell two places of the city apart.
_PREFIXES: Final = tuple(
    sorted(
        {"河南省", "河南", "驻马店市", "驻马店", "市区", "市里"} | {d.name_zh for d in DISTRICTS},
        key=len,
        reverse=True,
    )
)
# Words around a place that do not move it.
_FILLERS_RE: Final = re.compile(
    r"(附近|一带|这边|那边|这里|那里|这儿|那儿|旁边|边上|跟前|那块|这块|位置|处|[东西南北]{1,2}(?:角|侧|边|面))$"
)
# Spoken fillers inside an address ("练江大道和骏马路那个路口").
_SPOKEN_RE: Final = re.compile(r"(那个|这个|就是|那边的|这边的|嗯|呃)")
_SEPARATORS_RE: Final = re.compile(r"[\s,，。.、;；:：!！?？()（）\[\]【】\"'“”‘’·\-—_~～]+")

_CN_DIGITS: Final = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_NUMBER_RE: Final = re.compile("[零〇一二两三四五六七八九十百]+(?=(?:号楼|号院|栋|幢|座|单元|楼|层|室|号|户|排|组))")
# Building, entrance, floor and room words, each to one spelling.
_UNITS: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(r"(\d+)(?:号楼|栋楼|栋|幢|座|号院楼)"), r"\1号楼"),
    (re.compile(r"(\d+)(?:号单元|单元)"), r"\1单元"),
    (re.compile(r"(\d+)(?:号房|室|户)"), r"\1室"),
    (re.compile(r"(\d+)(?:层|楼)(?!\d)"), r"\1层"),
)


def _cn_number(text: str) -> int:
    """A Chinese numeral under 1000 (三, 十二, 二十三, 一百零五) as an int."""
    total, current = 0, 0
    for ch in text:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = current * 10 + _CN_DIGITS[ch] if current else _CN_DIGITS[ch]
    return total + current


def _digits(text: str) -> str:
    return _CN_NUMBER_RE.sub(lambda m: str(_cn_number(m.group(0))), text)


def _strip_prefixes(text: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if text.startswith(prefix) and len(text) > len(prefix):
                text = text[len(prefix) :]
                changed = True
                break  # the longest prefix first again
    return text


def intersection(text: str) -> tuple[str, str] | None:
    """The two roads of an intersection named in ``text`` (sorted), or None.

    ``text`` is an address as typed; the roads keep their suffix (解放大道, 雪松路).
    """
    flat = _clean(text)
    match = _INTERSECTION_RE.search(flat) or _JOINED_RE.search(flat)
    if match is None:
        return None
    a, b = match.group("a"), match.group("b")
    if a == b:
        return None
    return (a, b) if a <= b else (b, a)


def _clean(text: str) -> str:
    flat = unicodedata.normalize("NFKC", text).lower()
    flat = _SPOKEN_RE.sub("", _SEPARATORS_RE.sub("", flat))
    return _strip_prefixes(flat)


@functools.lru_cache(maxsize=20_000)
def address_key(text: str) -> str:
    """One form per place: prefixes (province, city, district) dropped, an intersection as
    ``路A×路B`` (roads sorted), numbers in digits, building and unit words spelled one way,
    trailing "附近/旁边" dropped. Two addresses with the same key name the same place."""
    flat = _digits(_clean(text))
    for pattern, replacement in _UNITS:
        flat = pattern.sub(replacement, flat)
    match = _INTERSECTION_RE.search(flat) or _JOINED_RE.search(flat)
    if match is not None and match.group("a") != match.group("b"):
        a, b = sorted((match.group("a"), match.group("b")))
        flat = f"{flat[: match.start()]}{a}×{b}{flat[match.end() :]}"
    previous = None
    while previous != flat:
        previous = flat
        flat = _FILLERS_RE.sub("", flat)
    return flat


def same_place(a: str, b: str) -> bool:
    """Whether two addresses name the same place (same :func:`address_key`)."""
    return bool(a and b) and address_key(a) == address_key(b)
