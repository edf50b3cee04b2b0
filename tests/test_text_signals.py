"""Text signals of 10-K sections (ingest.text.signals), on cases computed by hand: the arithmetic
is in the comments."""

from __future__ import annotations

import pytest

from ingest.text.signals import (
    complex_word,
    cosine_similarity,
    gunning_fog,
    headings_diff,
    jaccard_similarity,
    normalized_heading,
    sentences,
    syllables,
    words,
)


def test_words_keep_inner_apostrophes_and_hyphens_and_drop_numbers():
    text = "The Company\u2019s long-term debt was $1.5 billion in 2024 (Form 10-K); the companies' debt."
    # "$1.5", "2024" and "10-K" have digits: not words. The curly apostrophe is read as "'", the
    # plural possessive's trailing apostrophe is not part of the word.
    assert words(text) == [
        "the",
        "company's",
        "long-term",
        "debt",
        "was",
        "billion",
        "in",
        "form",
        "the",
        "companies",
        "debt",
    ]
    assert words("") == [] and words("2023 2024 10-K 1.5%") == []


def test_cosine_similarity_by_hand():
    # the cat sat -> (the 1, cat 1, sat 1); the cat ran -> (the 1, cat 1, ran 1)
    # dot = 1*1 + 1*1 = 2; |a| = |b| = sqrt(3); 2 / (sqrt3 * sqrt3) = 2/3
    assert cosine_similarity("the cat sat", "the cat ran") == pytest.approx(2 / 3)
    # a a b -> (a 2, b 1); a b b -> (a 1, b 2): (2*1 + 1*2) / (sqrt5 * sqrt5) = 4/5 = 0.8
    assert cosine_similarity("a a b", "a b b") == pytest.approx(0.8)
    # risk risk risk -> (risk 3); risk factors -> (risk 1, factors 1): 3 / (3 * sqrt2) = 1/sqrt2
    assert cosine_similarity("risk risk risk", "Risk factors") == pytest.approx(2**-0.5)
    # Identical texts, and the same words in another order (a bag of words): exactly 1.0.
    text = "Our results depend on demand for our products and on our suppliers."
    assert cosine_similarity(text, text) == 1.0
    assert cosine_similarity("cat sat the", "the sat cat") == 1.0
    # Same proportions, different lengths: (the 2, cat 2) vs (the 1, cat 1): 4 / (sqrt8 * sqrt2) = 1
    assert cosine_similarity("the cat the cat", "the cat") == pytest.approx(1.0)
    # No word in common: dot = 0.
    assert cosine_similarity("the cat sat", "dogs bark loudly") == 0.0
    # Either text without words: no similarity at all, not 0.
    assert cosine_similarity("", "the cat") is None
    assert cosine_similarity("the cat", "2024 10-K") is None


def test_jaccard_similarity_by_hand():
    # {the, cat, sat} vs {the, cat, ran}: |∩| = |{the, cat}| = 2, |∪| = |{the, cat, sat, ran}| = 4: 0.5
    assert jaccard_similarity("the cat sat", "the cat ran") == 0.5
    # {a, b} vs {a, b}: counts do not matter to sets, 2/2 = 1 (where cosine gave 0.8)
    assert jaccard_similarity("a a b", "a b b") == 1.0
    # {risk, factors} vs {risk}: 1/2; {risk, factors, may} vs {risk, factors, will, change}: 2/5
    assert jaccard_similarity("Risk factors", "risk") == 0.5
    assert jaccard_similarity("risk factors may", "risk factors will change") == pytest.approx(2 / 5)
    assert jaccard_similarity("the cat", "the cat") == 1.0
    assert jaccard_similarity("the cat", "dogs bark") == 0.0
    assert jaccard_similarity("the cat", "") is None
    assert jaccard_similarity("1.5 2024", "the cat") is None


def test_syllables_of_words_the_heuristic_gets_right():
    # Only words whose count the heuristic gets right (checked against a dictionary's division).
    known = {
        "the": 1,  # one vowel group
        "risk": 1,
        "make": 1,  # ma-ke: 2 groups, silent final e
        "makes": 1,  # silent -es
        "filed": 1,  # silent -ed
        "while": 1,  # vowel + le: the e is silent
        "league": 1,  # ea, ue: -gue silent
        "table": 2,  # consonant + le: a, e both count
        "people": 2,
        "agree": 2,  # -ee is not a silent e
        "unique": 2,  # u, i, ue less silent -que
        "value": 2,  # a, ue: consonant + ue keeps its e
        "boxes": 2,  # -es after x is sounded
        "changes": 2,  # -es after g is sounded
        "titles": 2,  # consonant + les: ti-tles
        "statement": 2,  # a, e, e less the silent e before -ment
        "likely": 2,  # i, e, y less the silent e before -ly
        "long-term": 2,  # each part: long 1 + term 1
        "company": 3,  # o, a, y
        "company's": 3,  # the possessive adds nothing
        "financial": 3,  # i, a, ia
        "revenue": 3,  # e, e, ue: consonant + ue keeps its e
        "reported": 3,  # -ed after t is sounded
        "services": 3,  # e, i, e: -es after c is sounded
        "increasing": 3,
        "companies": 3,  # o, a, ie
        "capital": 3,
        "management": 3,  # a, a, e, e less the silent e before -ment
        "operations": 4,
        "liquidity": 4,
        "cybersecurity": 6,  # cy-ber-se-cu-ri-ty
        "hmm": 1,  # no vowel at all: at least 1
    }
    assert {w: syllables(w) for w in known} == known


def test_syllables_known_misses_of_the_heuristic():
    # Documented errors (see the docstring): vowels written together but sounded apart, and a
    # written vowel not sounded. "business" is the one that matters: frequent in 10-Ks, it is
    # counted as a complex word.
    assert syllables("area") == 2  # a-re-a: 3
    assert syllables("create") == 1  # cre-ate: 2
    assert syllables("being") == 1  # be-ing: 2
    assert syllables("business") == 3  # busi-ness: 2
    assert complex_word("business")


def test_complex_words_follow_gunning():
    assert complex_word("company") and complex_word("revenue") and complex_word("liquidity")
    # Three syllables only through -ed, -ing or -es: report (2) + ed, increase (2) + ing,
    # service (2) + es.
    assert not complex_word("reported")
    assert not complex_word("increasing")
    assert not complex_word("services")
    # But company (3) + es is still complex: the stem alone has three syllables.
    assert complex_word("companies")
    # Hyphenated compounds are not complex: third-quarter = 1 + 2 = 3 syllables.
    assert syllables("third-quarter") == 3 and not complex_word("third-quarter")
    assert not complex_word("table") and not complex_word("the")


def test_sentences():
    # "Inc." and the decimal point of "$1.5" end no sentence: "billion." and "grew." do.
    assert sentences("Apple Inc. reported $1.5 billion. It grew.") == 2
    assert sentences("Sales rose! Did costs fall? Yes.") == 3
    assert sentences("See Note No. 3 on the U.S. market, e.g. Europe, and Mr. Cook's letter.") == 1
    # A closing quote after the period; a last sentence without one still counts.
    assert sentences('He said "we are done." Then he left') == 2
    # A run of terminators ends one sentence.
    assert sentences("Really?! Yes...") == 2
    assert sentences("") == 0 and sentences("   ") == 0
    assert sentences("No period here") == 1
    # Known miss: an abbreviation that ends a sentence does not end it here.
    assert sentences("We sell in the U.S. It grew.") == 1


def test_gunning_fog_by_hand():
    text = "The company reported revenue. Revenue kept increasing as third-quarter customers bought more."
    # words: the company reported revenue (4) + revenue kept increasing as third-quarter customers
    #        bought more (8) = 12; sentences = 2
    # complex (3+ syllables): company, revenue, revenue, customers = 4; not complex although of 3
    #        syllables: reported (report + ed), increasing (increase + ing), third-quarter (hyphenated)
    # fog = 0.4 * (12/2 + 100 * 4/12) = 0.4 * (6 + 33.333...) = 2.4 + 13.333... = 15.7333...
    assert gunning_fog(text) == pytest.approx(0.4 * (12 / 2 + 100 * 4 / 12))
    assert gunning_fog(text) == pytest.approx(15.7333, abs=1e-4)
    # One sentence of one-syllable words: 0.4 * (4/1 + 100 * 0/4) = 1.6
    assert gunning_fog("The cat sat down.") == pytest.approx(1.6)
    assert gunning_fog("") is None and gunning_fog("2024: $1.5 (10-K).") is None


def test_normalized_heading():
    assert normalized_heading("  Risks  Related to Our Company\u2019s\nBusiness. ") == (
        "risks related to our companys business"
    )
    assert normalized_heading("Risks Related to Our Business:") == normalized_heading("risks related to our business")
    assert normalized_heading("Cyber-security; Data Privacy") == "cyber security data privacy"


def test_headings_diff_reordered_repunctuated_added_removed():
    previous = [
        "Risks Related to Our Business",
        "We depend on key personnel.",
        "Cybersecurity incidents could harm us",
        "We depend on key personnel",  # a duplicate: reported once
    ]
    current = [
        "Cybersecurity incidents could harm us.",  # moved up and a period added: the same heading
        "Risks related to our business:",  # case and punctuation changed: the same heading
        "Climate change may affect our operations",  # new
        "Climate change may affect our operations.",  # new, written again: once
        "Export controls may limit our sales",  # new
    ]
    added, removed = headings_diff(previous, current)
    # In the document's order, as written (the first spelling of a repeated heading).
    assert added == ["Climate change may affect our operations", "Export controls may limit our sales"]
    assert removed == ["We depend on key personnel."]
    assert headings_diff(current, current) == ([], [])
    assert headings_diff([], ["A new risk"]) == (["A new risk"], [])
    assert headings_diff(["An old risk"], []) == ([], ["An old risk"])
