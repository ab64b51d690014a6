"""The typo corrector: a reader's misspelling meets the articles' word; a real English word
is never turned into one the articles use (that would answer a question they do not)."""

from __future__ import annotations

import pytest

from assistant.text import Vocabulary

ARTICLE_WORDS = ["gluteus", "maximus", "piriformis", "crutches", "ankle", "exercises"]


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return Vocabulary(ARTICLE_WORDS, known_words=frozenset())  # no model vocabulary: wordfreq alone


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("glutues", "gluteus"),
        ("maximis", "maximus"),
        ("piriformus", "piriformis"),
        ("ankel", "ankle"),
        ("excercises", "exercises"),
    ],
)
def test_a_misspelling_becomes_the_articles_word(
    vocabulary: Vocabulary, typed: str, meant: str
) -> None:
    assert vocabulary.correct_word(typed) == meant


@pytest.mark.parametrize("word", ["crunches", "loosen"])
def test_a_common_english_word_is_left_alone(vocabulary: Vocabulary, word: str) -> None:
    assert vocabulary.correct_word(word) == word
