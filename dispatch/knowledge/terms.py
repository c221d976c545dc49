"""Search terms of knowledge-base text, pure: the router's normalisation (NFKC, lower case,
Henan dialect mapped to Mandarin), then the character bigrams of each run of letters, digits
and CJK characters. Chinese has no spaces to split words on; bigrams match a call-taker's
half-typed phrase ("居住" finds 居住证) without a dictionary, and PostgreSQL indexes them in a
GIN index on a text[] column (no extension needed)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from routing.text import normalise, segments

# Bigrams of the words people wrap a question in; they would match every entry.
STOP_TERMS: Final[frozenset[str]] = frozenset(
    {
        "请问", "问一", "一下", "我想", "想问", "想咨", "咨询", "询一", "什么", "怎么", "么办", "如何",
        "需要", "要什", "哪里", "哪些", "可以", "能不", "不能", "是不", "不是", "有没", "没有", "我们",
        "你们", "他们", "这个", "那个", "一个", "的话", "了吗", "时候", "现在", "已经", "还是", "就是",
        "么材", "问办", "办理的", "在哪", "去哪",
    }
)  # fmt: skip


def terms(text: str) -> list[str]:
    """The distinct search terms of ``text``, in order of first appearance.

    A run of one character is its own term, so a single-character keyword still matches.
    """
    found: dict[str, None] = {}
    for run in segments(normalise(text)):
        if len(run) == 1:
            found.setdefault(run, None)
            continue
        for i in range(len(run) - 1):
            bigram = run[i : i + 2]
            if bigram not in STOP_TERMS:
                found.setdefault(bigram, None)
    return list(found)


def terms_of_all(texts: Iterable[str]) -> list[str]:
    """The distinct terms of several texts together."""
    found: dict[str, None] = {}
    for text in texts:
        for term in terms(text):
            found.setdefault(term, None)
    return list(found)


def normalised_keyword(keyword: str) -> str:
    """A keyword as it is stored and compared: the router's normal form, trimmed."""
    return normalise(keyword).strip()


def query_text(text: str) -> str:
    """A query's normal form, for finding whole keywords inside it."""
    return normalise(text)
