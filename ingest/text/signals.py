"""Text measures of 10-K sections, as in Cohen, Malloy and Nguyen, "Lazy Prices" (Journal of
Finance, 2020): firms rarely change their 10-K language, and when Risk Factors or MD&A change
from one year to the next, the change carries news that prices take months to reflect.
Similarity year over year is measured on word counts (cosine) and word sets (Jaccard), with
the risk-factor headings added and removed; readability with Gunning's fog index.

No word list is used (no sentiment dictionary, no stop words), so there is no list whose licence
would need checking: the Loughran-McDonald lists, the usual choice, may not be redistributed.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

# A token: letters and digits, joined by inner apostrophes or hyphens; a token with a digit in it
# ("2024", "10-K", "$1.5") is a number or a code, not a word.
_TOKEN = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
_DIGIT = re.compile(r"\d")
# Abbreviations whose period does not end a sentence, as filings write them (case matters: "no."
# at the end of a sentence is a word, "No. 3" is not).
_ABBREVIATION = re.compile(
    r"\b(?:Inc|Corp|Co|Ltd|LLC|No|Nos|Mr|Mrs|Ms|Dr|Jr|Sr|St|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\."
    r"|\b(?:U\.S|U\.K|e\.g|i\.e|vs|approx)\."
)
# One or more of . ! ? (closing quotes or brackets allowed) before a space or the end of the text.
_SENTENCE_END = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(?=\s|$)")
_VOWELS = re.compile(r"[aeiouy]+")
_CONSONANT = "[b-df-hj-np-tv-xz]"
_SUFFIXES = ("ing", "es", "ed")


def words(text: str) -> list[str]:
    """Lowercase word tokens: runs of letters, inner apostrophes and hyphens kept ("company's",
    "long-term"); numbers, and tokens with digits in them ("10-K", "2024"), are not words. Unit:
    one string per word, in the text's order."""
    tokens = _TOKEN.findall(text.lower().replace("\u2019", "'"))
    return [t for t in tokens if not _DIGIT.search(t)]


def cosine_similarity(a: str, b: str) -> float | None:
    """Cosine of the two texts' term-frequency vectors, tf(w) the raw count of word w:
    sum_w tf_a(w) * tf_b(w) / sqrt(sum_w tf_a(w)^2 * sum_w tf_b(w)^2). Unitless, in [0, 1]: 1 for
    the same words in the same proportions, 0 for no word in common; None when either text has no
    words."""
    tf_a, tf_b = Counter(words(a)), Counter(words(b))
    if not tf_a or not tf_b:
        return None
    dot = sum(n * tf_b[w] for w, n in tf_a.items())
    # Integer sums, one square root: identical texts give exactly 1.0.
    norms = math.sqrt(sum(n * n for n in tf_a.values()) * sum(n * n for n in tf_b.values()))
    return min(dot / norms, 1.0)


def jaccard_similarity(a: str, b: str) -> float | None:
    """Jaccard index of the two texts' word sets: |A ∩ B| / |A ∪ B|. Unitless, in [0, 1]; None
    when either text has no words."""
    set_a, set_b = set(words(a)), set(words(b))
    if not set_a or not set_b:
        return None
    return len(set_a & set_b) / len(set_a | set_b)


def syllables(word: str) -> int:
    """Syllables of an English word (unit: syllables, at least 1), by a heuristic, not a
    dictionary. Count the vowel groups (y counted as a vowel), then take one off for:
    - a silent final 'e' after a consonant ("make"), but not in consonant + '-le' ("table"); and
      one in '-gue'/'-que' ("league", "unique"), where "agree" and "revenue" keep theirs;
    - an '-es' or '-ed' that adds no sound ("makes", "filed"), but not after t/d, s/x/z, ch/sh,
      c/g or consonant + l ("reported", "boxes", "changes", "titles");
    - a silent 'e' before '-ment', '-ly', '-ful', '-ness' or '-less' ("management", "likely").
    A possessive "'s" is ignored; a hyphenated word counts each part.

    Known errors: two written vowels sounded apart, "area" (3, counted 2), "create" (2, counted
    1), "being" (2, counted 1), "naive" (2, counted 1), "employee" (3, counted 2); a written vowel
    not sounded, "business" (2, counted 3, and frequent in filings), "every" (2, counted 3); a
    silent 'e' inside a compound, "framework" (2, counted 3); and "element" (3, counted 2)."""
    word = word.lower().replace("\u2019", "'").strip("'-")
    if "-" in word:
        return sum(syllables(part) for part in word.split("-") if part) or 1
    word = re.sub(r"'s$", "", word).replace("'", "")
    count = len(_VOWELS.findall(word))
    if count > 1:
        silent_e = re.search(f"{_CONSONANT}e$", word) and not re.search("[^aeiouyl]le$", word)
        if silent_e or re.search("[gq]ue$", word):
            count -= 1  # a silent final e
        elif (
            re.search(f"{_CONSONANT}(?:es|ed)$", word)
            and not re.search("(?:[td]ed|[sxz]es|[cs]hes|[cg]es)$", word)
            and not re.search(f"{_CONSONANT}l(?:es|ed)$", word.replace("ll", "l"))
        ):
            count -= 1  # a silent -es or -ed
        if re.search(f"[aeiouy]{_CONSONANT}+e(?:ments?|ly|ful|ness|less)$", word) and not re.search(
            "[^aeiouyl]le(?:ments?|ly|ful|ness|less)$", word
        ):
            count -= 1  # a silent e before a suffix: "statement", "likely"
    return max(count, 1)


def sentences(text: str) -> int:
    """Sentences in a text (unit: sentences): the pieces between runs of '.', '!' or '?' that
    are followed by a space or the end of the text, counting only pieces with a letter or digit
    in them (so at least 1 for any text with a word). The periods of common abbreviations
    ("Inc.", "U.S.", "No.", "e.g.") and of decimals ("1.5") end no sentence; an abbreviation that
    does end one ("sold in the U.S. It grew.") is missed."""
    stripped = _ABBREVIATION.sub(lambda m: m.group(0).replace(".", ""), text)
    return sum(1 for piece in _SENTENCE_END.split(stripped) if re.search(r"[^\W_]", piece))


def complex_word(word: str) -> bool:
    """Gunning's complex word: three or more syllables, except a hyphenated compound and a word
    whose third syllable comes only from an '-es', '-ed' or '-ing' ending ("increasing",
    "reported", "services"). Gunning also excluded proper nouns and familiar jargon; with no word
    list, these are not excluded here."""
    if "-" in word or syllables(word) < 3:
        return False
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix) + 2 and syllables(word[: -len(suffix)]) < 3:
            return False
    return True


def gunning_fog(text: str) -> float | None:
    """Gunning fog index: 0.4 * (words / sentences + 100 * complex words / words), words as by
    `words`, sentences as by `sentences`, complex as by `complex_word`. Unit: years of formal
    schooling a reader needs to follow the text on first reading; None when it has no words."""
    tokens = words(text)
    if not tokens:
        return None
    hard = sum(1 for w in tokens if complex_word(w))
    return 0.4 * (len(tokens) / sentences(text) + 100 * hard / len(tokens))


def normalized_heading(heading: str) -> str:
    """A heading as compared with another: lowercase, apostrophes dropped ("company's" ->
    "companys"), other punctuation (a trailing period too) turned into spaces, whitespace
    collapsed to single spaces and trimmed."""
    text = heading.lower().replace("\u2019", "").replace("'", "")
    return " ".join(re.sub(r"[^\w\s]|_", " ", text).split())


def headings_diff(previous: list[str], current: list[str]) -> tuple[list[str], list[str]]:
    """(added, removed) risk-factor headings, compared by `normalized_heading`: the current
    headings not among the previous ones, and the previous headings not among the current ones.
    Each list keeps the document's order and the heading's original text, a repeated heading
    once; a heading only moved elsewhere, or only re-punctuated, is in neither."""
    before = {normalized_heading(h) for h in previous}
    now = {normalized_heading(h) for h in current}
    added = _once(h for h in current if normalized_heading(h) not in before)
    removed = _once(h for h in previous if normalized_heading(h) not in now)
    return added, removed


def _once(headings: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    kept: list[str] = []
    for heading in headings:
        if (key := normalized_heading(heading)) not in seen:
            seen.add(key)
            kept.append(heading)
    return kept
