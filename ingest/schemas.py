"""Arrow schemas of the staged datasets: the contract between normalize and every loader."""

import pyarrow as pa

FACTS = pa.schema(
    [
        ("cik", pa.string()),
        ("entity_name", pa.string()),
        ("taxonomy", pa.string()),
        ("tag", pa.string()),
        ("unit", pa.string()),
        ("value", pa.float64()),
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

BY_DATASET = {"facts": FACTS, "companies": COMPANIES, "filings": FILINGS}
