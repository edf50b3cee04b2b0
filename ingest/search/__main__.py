"""``python -m ingest.search QUERY``: the filing sections that best match QUERY, with snippets.

    .venv/bin/python -m ingest.search "supply chain" --ticker NVDA --form 10-K --from 2023-01-01 --limit 10
    .venv/bin/python -m ingest.search '"export controls" -china' --cik 1045810

QUERY is in web-search syntax: words (all of them must match), "a phrase", or, -word.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from datetime import date

from ingest.postgres.connection import connect
from ingest.search import SearchError, render, search
from ingest.settings import Settings


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, not {value!r}") from None


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {value!r}")
    return int(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ingest.search",
        description="Full-text search of 10-K and 10-Q sections (serving.search_sections, as bi_reader).",
    )
    parser.add_argument("query", help='web-search syntax: words, "a phrase", or, -word')
    company = parser.add_mutually_exclusive_group()
    company.add_argument("--ticker", help="one company, by a ticker it lists (NVDA)")
    company.add_argument("--cik", help="one company, by CIK (1045810 or 0001045810)")
    parser.add_argument("--form", help="exactly this form: 10-K, 10-Q, 10-K/A")
    parser.add_argument("--from", dest="filed_from", type=_day, metavar="YYYY-MM-DD", help="filed on or after")
    parser.add_argument("--to", dest="filed_to", type=_day, metavar="YYYY-MM-DD", help="filed on or before")
    parser.add_argument("--limit", type=_positive, default=10, help="results (default 10, at most 1000)")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="bold matches")
    args = parser.parse_args(argv)

    color = args.color == "always" or (args.color == "auto" and sys.stdout.isatty() and "NO_COLOR" not in os.environ)
    with connect(Settings()) as conn:
        try:
            hits = search(
                conn,
                args.query,
                cik=args.cik,
                ticker=args.ticker,
                form=args.form,
                filed_from=args.filed_from,
                filed_to=args.filed_to,
                limit=args.limit,
            )
        except SearchError as exc:
            parser.exit(2, f"{parser.prog}: {exc}\n")
    print(render(hits, color=color, width=min(shutil.get_terminal_size().columns, 120)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
