"""Text normalisation and the character n-gram features shared by training and inference.

Both the trainer (``routing.training``) and the runtime model (``routing.model``) call
:func:`features`, so a model can never be scored on features it was not trained with.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from typing import Final

from routing.cues import find_cues
from routing.danger import find_signs
from routing.lexicon import concepts

# Henan dialect and spoken forms mapped to standard Mandarin, longest first so that
# "弄啥嘞" wins over "啥". The mapping is applied before n-grams and before the rules,
# so "木有人受伤" reads as "没有人受伤" everywhere.
DIALECT: Final[tuple[tuple[str, str], ...]] = tuple(
    sorted(
        {
            "弄啥嘞": "干什么了",
            "弄啥哩": "干什么了",
            "弄啥": "干什么",
            "木有": "没有",
            "么有": "没有",
            "没得": "没有",
            "俺们": "我们",
            "俺": "我",
            "恁们": "你们",
            "恁": "你",
            "咋着": "怎么样",
            "咋弄": "怎么办",
            "咋": "怎么",
            "啥": "什么",
            "不得劲": "不舒服",
            "夜儿个": "昨天",
            "夜个": "昨天",
            "夜里个": "昨天",
            "今儿个": "今天",
            "今个": "今天",
            "明儿个": "明天",
            "黑价": "晚上",
            "黑了": "晚上",
            "晌午": "中午",
            "小妮儿": "女孩",
            "妮儿": "女孩",
            "小妮": "女孩",
            "孩儿": "孩子",
            "小娃": "小孩",
            "中不中": "行不行",
            "嫑": "不要",
            "嘞": "了",
            "哩": "的",
        }.items(),
        key=lambda pair: -len(pair[0]),
    )
)

_DIALECT_RE: Final = re.compile("|".join(re.escape(src) for src, _ in DIALECT))
_DIALECT_MAP: Final[dict[str, str]] = dict(DIALECT)
_DIGITS_RE: Final = re.compile(r"\d")
# Anything that is not a letter, digit or CJK character separates segments; n-grams never
# span a separator, so punctuation and spacing choices do not change the features.
_SEPARATOR_RE: Final = re.compile(r"[^0-9a-z\u3400-\u9fff]+")

NGRAM_MIN: Final = 1
NGRAM_MAX: Final = 3


# A request's text is normalised by the features, the rules and the explanation: once.
@functools.lru_cache(maxsize=4096)
def normalise(text: str) -> str:
    """Canonical form of a request text: NFKC, lower case, dialect mapped to Mandarin.

    Digits are kept here (the rules read them); :func:`features` folds them.
    """
    folded = unicodedata.normalize("NFKC", text).lower()
    return _DIALECT_RE.sub(lambda m: _DIALECT_MAP[m.group(0)], folded)


_WORD_RE: Final = re.compile(r"[\u3400-\u9fff]|[a-z]{2,}")


def meaningful(text: str) -> bool:
    """Whether ``text`` has anything to classify: a Chinese character or a word of two letters
    or more (not only punctuation, digits, symbols or emoji)."""
    return _WORD_RE.search(normalise(text)) is not None


def segments(normalised: str) -> list[str]:
    """The runs of letters, digits and CJK characters, digits folded to ``0``."""
    folded = _DIGITS_RE.sub("0", normalised)
    return [s for s in _SEPARATOR_RE.split(folded) if s]


def ngrams(normalised: str) -> Counter[str]:
    """Counts of the character n-grams (1 to 3) of a normalised text, within segments."""
    return Counter(
        [
            seg[i : i + n]
            for seg in segments(normalised)
            for n in range(NGRAM_MIN, NGRAM_MAX + 1)
            for i in range(len(seg) - n + 1)
        ]
    )


def features(text: str) -> Counter[str]:
    """The features of a raw request text: character n-grams, lexicon concepts (``#name``),
    danger signs (``!name``, see ``routing.danger``) and urgency cues (``~name``, see
    ``routing.cues``)."""
    normal = normalise(text)
    counts = ngrams(normal)
    counts.update(concepts(normal))
    counts.update({f"!{code}": 1 for code in find_signs(normal)})
    counts.update({f"~{code}": 1 for code in find_cues(normal)})
    return counts
