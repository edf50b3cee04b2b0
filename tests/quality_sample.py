"""The bundled real sample, normalized with ingest/normalize.py, as the quality tests' input.

test_quality_sample.py pins the facts these loaders give that the quality tests rely on.
"""

from __future__ import annotations

import functools
import gzip
import re
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pyarrow as pa

from ingest.normalize import normalize_companyfacts, normalize_submissions

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample" / "edgar"
_SUBMISSIONS = re.compile(r"^CIK(\d{10})(-submissions-\d{3})?\.json(\.gz)?$")
APPLE = "0000320193"

# A few canonical metrics, enough to build a mart shaped like fct_financial_statements.
_METRICS = {
    "Revenues": "revenue",
    "RevenueFromContractWithCustomerExcludingAssessedTax": "revenue",
    "NetIncomeLoss": "net_income",
    "Assets": "total_assets",
    "StockholdersEquity": "stockholders_equity",
}


def _read(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


@functools.cache
def facts() -> pa.Table:
    paths = sorted((SAMPLE / "companyfacts").glob("CIK*.json*"))
    return pa.concat_tables([normalize_companyfacts(_read(p)) for p in paths])


@functools.cache
def submissions() -> tuple[pa.Table, pa.Table]:
    """(companies, filings) from every submissions document and its pages."""
    docs: dict[str, dict[bool, list[Path]]] = defaultdict(lambda: {False: [], True: []})
    for path in sorted((SAMPLE / "submissions").iterdir()):
        if match := _SUBMISSIONS.match(path.name):
            docs[match.group(1)][match.group(2) is not None].append(path)
    companies, filings = [], []
    for cik in sorted(docs):
        (main,) = docs[cik][False]
        company, filed = normalize_submissions(_read(main), [_read(p) for p in docs[cik][True]])
        companies.append(company)
        filings.append(filed)
    return pa.concat_tables(companies), pa.concat_tables(filings)


@functools.cache
def statements() -> pd.DataFrame:
    """fct_financial_statements built from real facts (the dbt mart's contract, a handful of metrics)."""
    df = facts().to_pandas()
    df = df[df["taxonomy"].eq("us-gaap") & df["tag"].isin(list(_METRICS)) & df["unit"].eq("USD")]
    days = (pd.to_datetime(df["period_end"]) - pd.to_datetime(df["period_start"])).dt.days
    annual = days.between(350, 380) | (days.isna() & df["fp"].eq("FY") & df["form"].eq("10-K"))
    quarter = days.between(80, 100) & df["fp"].isin(["Q1", "Q2", "Q3"])
    df = df[annual | quarter].assign(fiscal_period=lambda d: d["fp"].where(quarter[d.index], "FY"))
    df = df.assign(metric=df["tag"].map(_METRICS), source_tag=df["tag"], filed_date=df["filed"])
    key = ["cik", "metric", "fiscal_period", "period_start", "period_end", "accession_number"]
    df = df.sort_values([*key, "tag"]).drop_duplicates(key)  # one tag per metric and filing
    period = ["cik", "metric", "fiscal_period", "period_end"]
    order = df.sort_values(["filed_date", "accession_number"]).groupby(period, dropna=False).cumcount()
    versions = df.groupby(period, dropna=False)["accession_number"].transform("size")
    df = df.assign(is_first_reported=order.eq(0), is_latest=order.eq(versions - 1))
    columns = [*key[:5], "value", "unit", "source_tag", "accession_number", "filed_date"]
    return df[[*columns, "is_first_reported", "is_latest"]].reset_index(drop=True)
