"""Which paragraphs the English model reads (py3langid, offline) and words of spaceless scripts."""

from __future__ import annotations

import pytest

from stancetopic.languages import MIN_CONFIDENCE, language, readable, words

ENGLISH = "The ministry confirmed on Monday that the new border checks would start in May."
GERMAN = "Die Regierung hat am Montag bestätigt, dass die Gespräche über den Zollvertrag fortgesetzt werden."
CHINESE = "港务局否认在罢工期间雇用了替代工人\uff0c并表示码头将在星期四恢复正常运营。"
RUSSIAN = "Министерство подтвердило в понедельник, что переговоры продолжатся в мае."


def test_english_is_readable():
    assert language(ENGLISH)[0] == "en"
    assert readable(ENGLISH)


def test_a_german_paragraph_is_detected_as_another_language():
    code, probability = language(GERMAN)
    assert code == "de" and probability >= MIN_CONFIDENCE
    assert not readable(GERMAN)


@pytest.mark.parametrize("text", [CHINESE, RUSSIAN])
def test_a_paragraph_in_another_script_is_not_readable(text):
    assert not readable(text)


@pytest.mark.parametrize("text", ["12.03.2024 | 14:05 | Berlin", "Bürgermeister", "港口", "42 %"])
def test_too_few_letters_to_tell_is_readable(text):
    assert readable(text)


def test_han_and_kana_count_two_characters_a_word_and_thai_four():
    assert words("港务局否认在罢工") == ["港务", "局否", "认在", "罢工"]
    assert words("東京都の発表") == ["東京", "都の", "発表"]
    assert words("รัฐบาลยืนยันว่า") == ["รัฐบ", "าลยื", "นยัน", "ว่า"]


def test_latin_words_around_spaceless_runs_stay_whole():
    assert words("Tokyo 東京都の発表 (AFP)") == ["Tokyo", "東京", "都の", "発表", "(AFP)"]
    assert words("Reuters港务局否认") == ["Reuters", "港务", "局否", "认"]
    assert words("Zürich café, 3 percent") == ["Zürich", "café,", "3", "percent"]
