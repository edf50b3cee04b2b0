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

BY_DATASET = {"facts": FACTS, "companies": COMPANIES, "filings": FILINGS, "prices": PRICES}
