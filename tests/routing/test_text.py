"""Normalisation and features: what the model and the rules read."""

from routing.lexicon import CONCEPTS, concepts
from routing.text import features, normalise, segments


def test_normalise_maps_henan_dialect_to_mandarin() -> None:
    assert normalise("俺家木有人受伤，恁弄啥嘞") == "我家没有人受伤,你干什么了"


def test_normalise_folds_full_width_and_case() -> None:
    assert normalise("ＫＴＶ１２３") == "ktv123"


def test_segments_fold_digits_and_split_on_punctuation() -> None:
    assert segments(normalise("豫Q12345，撞了！")) == ["豫q00000", "撞了"]


def test_ngrams_never_span_punctuation() -> None:
    grams = features("打架，出血")
    assert "打架" in grams and "出血" in grams
    assert "架出" not in grams


def test_lexicon_concepts_are_counted_as_features() -> None:
    assert concepts(normalise("他俩干仗了"))["#打斗"] == 1
    assert "#打斗" in features("他俩干仗了")


def test_lexicon_words_are_lower_case_and_unique_per_concept() -> None:
    for concept, words in CONCEPTS.items():
        listed = words.split()
        assert len(listed) == len(set(listed)), concept
        assert all(w == w.lower() for w in listed), concept
