"""Words in scripts written without spaces, and which paragraphs the English model can read.

Chinese, Japanese, Thai, Lao, Khmer and Burmese put no space between words,
so splitting on spaces would make a whole paragraph one "word" and our
fragment rules would drop it. Their runs are counted as words of a typical
length instead (two characters for Han and kana, four for the Southeast Asian
scripts): close enough for the 3- and 8-word thresholds, with no dictionary.

The embedder is English: a paragraph in another language is embedded as
noise and scored with confidence. `readable` says whether a paragraph is
English (or too short or language-neutral to tell), by py3langid, whose model
ships inside its wheel: nothing is downloaded.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

# Han (with extension A and compatibility ideographs), hiragana and katakana.
_EAST_ASIAN = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SOUTHEAST_ASIAN = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"
SPACELESS = re.compile(f"[{_EAST_ASIAN}]+|[{_SOUTHEAST_ASIAN}]+")
CHARS_PER_WORD = {True: 2, False: 4}  # keyed by "is East Asian"
# Fewer letters than this and the guess is too unreliable to skip anything.
MIN_LETTERS = 20
# Skip only when the detector is this sure the text is not English.
MIN_CONFIDENCE = 0.9
MODEL_LANGUAGE = "en"


def words(text: str) -> list[str]:
    """The words of `text`: split on spaces, runs of spaceless scripts cut into typical words."""
    tokens = text.split()
    if text.isascii():
        return tokens
    result: list[str] = []
    for token in tokens:
        if token.isascii() or not SPACELESS.search(token):
            result.append(token)
            continue
        position = 0
        for run in SPACELESS.finditer(token):
            if run.start() > position:
                result.append(token[position : run.start()])
            size = CHARS_PER_WORD["\u3040" <= run.group()[0] <= "\ufaff"]
            piece = run.group()
            result += [piece[i : i + size] for i in range(0, len(piece), size)]
            position = run.end()
        if position < len(token):
            result.append(token[position:])
    return result


@cache
def _identifier() -> Any:
    """py3langid's bundled model, loaded once per process, with probabilities that sum to 1."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def language(text: str) -> tuple[str, float]:
    """The most likely language code of `text` and the detector's probability for it."""
    code, probability = _identifier().classify(text)
    return str(code), float(probability)


def readable(text: str) -> bool:
    """Whether the English model can read `text`.

    True for English, and for text with too few letters to tell (a date
    line, a number table). False for text mostly in a non-Latin script, and
    for Latin-script text the detector is confident is another language.
    """
    sample = text[:2000]
    letters = [c for c in sample if c.isalpha()]
    if len(letters) < MIN_LETTERS:
        return True
    latin = sum(1 for c in letters if c.isascii() or "\u00c0" <= c <= "\u024f")
    if latin < len(letters) / 2:
        return False  # mostly another script (Han, Cyrillic, Arabic...): not English
    code, probability = language(sample)
    return code == MODEL_LANGUAGE or probability < MIN_CONFIDENCE
