"""Arrow schemas of the staged datasets: the contract between normalization and every loader."""

import pyarrow as pa

# A fact's value exactly as filed: the JSON number's decimal, never a binary float (0.1 and a
# 19-digit integer arrive unchanged). (38, 9) is BigQuery's NUMERIC and the marts' type.
VALUE = pa.decimal128(38, 9)

FACTS = pa.schema(
    [
        ("cik", pa.string()),
        ("entity_name", pa.string()),
        ("taxonomy", pa.string()),
        ("tag", pa.string()),
        ("unit", pa.string()),
        ("value", VALUE),
        ("period_start", pa.date32()),
        ("period_end", pa.date32()),
        ("fy", pa.int32()),
        ("fp", pa.string()),
        ("form", pa.string()),
        ("filed", pa.date32()),
        ("accession_number", pa.string()),
        ("frame", pa.string()),
    ]
)

COMPANIES = pa.schema(
    [
        ("cik", pa.string()),
        ("name", pa.string()),
        ("entity_type", pa.string()),
        ("sic", pa.string()),
        ("sic_description", pa.string()),
        ("tickers", pa.list_(pa.string())),
        ("exchanges", pa.list_(pa.string())),
        ("state_of_incorporation", pa.string()),
        ("fiscal_year_end", pa.string()),
        ("category", pa.string()),
        ("ein", pa.string()),
        ("former_names", pa.string()),
    ]
)

FILINGS = pa.schema(
    [
        ("cik", pa.string()),
        ("accession_number", pa.string()),
        ("form", pa.string()),
        ("filing_date", pa.date32()),
        ("report_date", pa.date32()),
        ("acceptance_datetime", pa.timestamp("us", tz="UTC")),
        ("primary_document", pa.string()),
        ("primary_doc_description", pa.string()),
        ("size", pa.int64()),
        ("is_xbrl", pa.bool_()),
        ("is_inline_xbrl", pa.bool_()),
        ("items", pa.string()),
    ]
)

# One row per ticker and trading day, as Yahoo reports it (ingest/yahoo/normalize.py).
# close is split-adjusted only, adj_close also for dividends and capital gains. dividend,
# split_ratio and capital_gains are null on rows backfilled from a Yahoo CSV, which has no
# corporate actions; elsewhere 0, 1 and 0 on days without one.
PRICES = pa.schema(
    [
        ("ticker", pa.string()),
        ("cik", pa.string()),
        ("trade_date", pa.date32()),
        ("open", pa.float64()),
        ("high", pa.float64()),
        ("low", pa.float64()),
        ("close", pa.float64()),
        ("adj_close", pa.float64()),
        ("volume", pa.int64()),
        ("dividend", pa.float64()),
        ("split_ratio", pa.float64()),
        ("capital_gains", pa.float64()),
        ("source", pa.string()),  # yahoo_chart, yahoo_csv
    ]
)

# Filing text (ingest/text/): one row per filing and section of a periodic report's primary
# document. ``item`` is the 10-K item ("1A", "7") or, for a 10-Q, part and item ("I-2", "II-1A");
# ``covers`` every item a combined heading names ("Items 1 and 2": ["1", "2"]). ``text`` is the
# prose, ``table_text`` the section's tables (cells " | ", rows one per line), kept apart.
# ``headings``: the emphasized sub-headings of the section (the risk factors' titles in 1A).
SECTIONS = pa.schema(
    [
        ("cik", pa.string()),
        ("accession_number", pa.string()),
        ("form", pa.string()),
        ("filing_date", pa.date32()),
        ("item", pa.string()),
        ("covers", pa.list_(pa.string())),
        ("title", pa.string()),
        ("position", pa.int32()),
        ("text", pa.string()),
        ("table_text", pa.string()),
        ("char_count", pa.int64()),
        ("word_count", pa.int64()),
        ("headings", pa.list_(pa.string())),
    ]
)

# One row per primary document read for sections: what came out, and why a filing is flagged
# (no item headings, item 1A or 7 missing or implausibly short) when its sections are not usable.
FILING_TEXTS = pa.schema(
    [
        ("cik", pa.string()),
        ("accession_number", pa.string()),
        ("form", pa.string()),
        ("filing_date", pa.date32()),
        ("report_date", pa.date32()),
        ("primary_document", pa.string()),
        ("raw_key", pa.string()),
        ("sections", pa.int32()),
        ("char_count", pa.int64()),
        ("flag", pa.string()),
    ]
)

# One row per 10-K (ingest/text/stage.py), known as of its filing date: Risk Factors (1A) and
# MD&A (7) measured, and compared with the same filer's previous 10-K (filed before it), as in
# Cohen, Malloy and Nguyen's "Lazy Prices". Formulas in ingest/text/signals.py and the mart's docs.
TEXT_SIGNALS = pa.schema(
    [
        ("cik", pa.string()),
        ("accession_number", pa.string()),
        ("form", pa.string()),
        ("filing_date", pa.date32()),
        ("previous_accession_number", pa.string()),
        ("risk_factors_chars", pa.int64()),
        ("mda_chars", pa.int64()),
        ("risk_factors_words", pa.int64()),
        ("mda_words", pa.int64()),
        ("previous_risk_factors_chars", pa.int64()),
        ("previous_mda_chars", pa.int64()),
        ("risk_factors_cosine", pa.float64()),
        ("risk_factors_jaccard", pa.float64()),
        ("mda_cosine", pa.float64()),
        ("mda_jaccard", pa.float64()),
        ("risk_headings", pa.int32()),
        ("risk_headings_added_count", pa.int32()),
        ("risk_headings_removed_count", pa.int32()),
        ("risk_headings_added", pa.list_(pa.string())),
        ("risk_headings_removed", pa.list_(pa.string())),
        ("risk_factors_fog", pa.float64()),
        ("mda_fog", pa.float64()),
    ]
)

BY_DATASET = {
    "facts": FACTS,
    "companies": COMPANIES,
    "filings": FILINGS,
    "prices": PRICES,
    "sections": SECTIONS,
    "filing_texts": FILING_TEXTS,
    "text_signals": TEXT_SIGNALS,
}
