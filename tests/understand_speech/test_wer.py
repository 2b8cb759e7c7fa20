from __future__ import annotations

from vidlens.analyze.wer import normalize, number_words, wer


def test_normalize_case_punctuation_numbers_abbreviations() -> None:
    assert normalize("Bin blue at F2, now!") == "bin blue at f two now".split()
    assert normalize("Mr. John's cold-hearted 1,000 days") == "mister john's cold hearted one thousand days".split()
    assert number_words(99) == "ninety nine" and number_words(305) == "three hundred five"


def test_wer_counts_substitutions_insertions_deletions() -> None:
    assert wer("set white with p two soon", "Set white with P2 soon.") == (0, 6)
    assert wer("a b c d", "a x c") == (2, 4)
    assert wer("a b", "a b c") == (1, 2)
