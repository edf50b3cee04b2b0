"""Full-text search of filing sections on a real PostgreSQL 18: edgar.filing_sections, its loader
and serving.search_sections (sql/0013), and `python -m ingest.search`.

The sections quote, word for word, sentences of the sample's 10-K and 10-Q primary documents
(data/sample/edgar/documents/); the index test adds every paragraph of those documents, read from
them with lxml.
"""

from __future__ import annotations

import gzip
import os
import random
import re
import string
import subprocess
import sys
from datetime import date

import psycopg
import pyarrow as pa
import pytest
from conftest import APPLE, NVIDIA, REPO, SAMPLE, TESLA, drop_database, fresh_database, sample_bytes
from psycopg import sql

import ingest.search as ingest_search
from ingest.postgres.connection import migrate
from ingest.postgres.loader import LoadResult, load_dataset
from ingest.sec.normalize import normalize_submissions
from ingest.zones import schemas

NVDA_FY24, NVDA_FY23 = "0001045810-24-000029", "0001045810-23-000017"
AAPL_FY24, AAPL_Q2_25 = "0000320193-24-000123", "0000320193-25-000057"
TSLA_FY23 = "0001628280-24-002390"
PARAMS = ("query", "cik", "form", "filed_from", "filed_to", "max_results")


def section(cik, accession, form, filed, item, title, paragraphs, position=0, headings=()) -> dict:
    text = "\n\n".join(paragraphs)
    return {
        "cik": cik,
        "accession_number": accession,
        "form": form,
        "filing_date": date.fromisoformat(filed),
        "item": item,
        "covers": [item],
        "title": title,
        "position": position,
        "text": text,
        "table_text": "",
        "char_count": len(text),
        "word_count": len(text.split()),
        "headings": list(headings),
    }


# "supply chain": four times in NVIDIA's FY2024 risk factors, three in Apple's, twice in Tesla's
# Business, once in NVIDIA's FY2023 risk factors and Apple's 10-Q.
SECTIONS = [
    section(NVIDIA, NVDA_FY24, "10-K", "2024-02-21", "1A", "Item 1A. Risk Factors", [
        "These risks may increase as we shorten our product development cycles, enter new lines of business, or "
        "integrate new suppliers or components into our supply chain, creating additional supply chain complexity.",
        "In periods of shortages impacting the semiconductor industry and/or limited supply or capacity in our "
        "supply chain, the lead times on our orders may be extended.",
        "These increased purchase volumes, the number of suppliers, and the integration of new vendors into our "
        "supply chain may create more complexity and execution risk.",
        "Given the increasing strategic importance of AI and rising geopolitical tensions, the USG has changed and "
        "may again change the export control rules at any time and further subject a wider range of our products "
        "to export restrictions and licensing requirements, negatively impacting our business and financial results.",
        "Our competitive position has been harmed, and our competitive position and future results may be further "
        "harmed in the long term, if there are further changes in the USG’s export controls.",
    ], position=2),
    section(NVIDIA, NVDA_FY23, "10-K", "2023-02-24", "1A", "Item 1A. Risk Factors", [
        "In periods of shortages impacting the semiconductor industry and/or limited supply or capacity in our "
        "supply chain, the lead times on our orders may be extended.",
        "Export controls targeting GPUs and semiconductors associated with AI, which are increasingly likely, would "
        "restrict our ability to export our technology, products, or services even though competitors may not be "
        "subject to similar restrictions, creating a competitive disadvantage for us and negatively impacting our "
        "business and financial results.",
        "Such restrictions could include additional unilateral or multilateral export controls on certain products "
        "or technology, including but not limited to AI technologies.",
    ], position=2),
    section(APPLE, AAPL_FY24, "10-K", "2024-11-01", "1A", "Item 1A. Risk Factors", [
        "In addition, the Company’s global supply chain is large and complex and a majority of the Company’s "
        "supplier facilities, including manufacturing and assembly sites, are located outside the U.S.",
        "Restrictions on international trade, such as tariffs and other controls on imports or exports of goods, "
        "technology or data, can materially adversely affect the Company’s business and supply chain.",
        "The impact can be particularly significant if these restrictive measures apply to countries and regions "
        "where the Company derives a significant portion of its revenues and/or has significant supply chain "
        "operations.",
    ], position=2),
    section(APPLE, AAPL_Q2_25, "10-Q", "2025-05-02", "II-1A", "Item 1A. Risk Factors", [
        "Tariffs and other measures that are applied to the Company’s products or their components can have a "
        "material adverse impact on the Company’s business, results of operations and financial condition, "
        "including impacting the Company’s supply chain, the availability of rare earths and other raw materials "
        "and components, pricing and gross margin.",
    ], position=6),
    section(TESLA, TSLA_FY23, "10-K", "2024-01-29", "1", "ITEM 1. BUSINESS", [
        "Our products use thousands of parts that are sourced from hundreds of suppliers across the world.",
        "We are focused on further enhancing sustainability of operations outside of our direct control, including "
        "reducing the carbon footprint of our supply chain.",
        "We are committed to sourcing only responsibly produced materials, and our suppliers are required to "
        "provide evidence of management systems that ensure social, environmental and sustainability best "
        "practices in their own operations, as well as to demonstrate a commitment to responsible sourcing into "
        "their supply chains.",
    ], position=0, headings=["Supply Chain"]),
]  # fmt: skip


def staged(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schemas.SECTIONS)


def load_companies_and_filings(conn: psycopg.Connection, ciks: list[str]) -> None:
    """The sample's submissions of these companies: their names, and the filings the URLs come from."""
    for cik in ciks:
        companies, filings = normalize_submissions(sample_bytes(f"edgar/submissions/CIK{cik}.json"))
        load_dataset(conn, "companies", companies)
        load_dataset(conn, "filings", filings)


@pytest.fixture(scope="module")
def searchable(pg_dsn):
    """A migrated database holding SECTIONS, NVIDIA's and Apple's companies and filings, and
    Tesla's company only (its filing unknown: its URL falls back to the filing index)."""
    name = "t_search_sections"
    dsn = fresh_database(pg_dsn, name)
    migrate(dsn)
    with psycopg.connect(dsn) as conn:
        load_companies_and_filings(conn, [NVIDIA, APPLE])
        tesla, _ = normalize_submissions(sample_bytes(f"edgar/submissions/CIK{TESLA}.json"))
        load_dataset(conn, "companies", tesla)
        load_dataset(conn, "sections", staged(SECTIONS))
    yield dsn
    drop_database(pg_dsn, name)


def search(conn: psycopg.Connection, query: str, **filters) -> list[dict]:
    names = ", ".join(f"{k} => %({k})s" for k in filters)
    cur = conn.execute(
        f"SELECT * FROM serving.search_sections(%(query)s{', ' + names if names else ''})", {"query": query, **filters}
    )
    columns = [c.name for c in cur.description]
    return [dict(zip(columns, row, strict=True)) for row in cur]


def keys(hits: list[dict]) -> list[tuple[str, str]]:
    return [(h["accession_number"], h["item"]) for h in hits]


def as_role(conn: psycopg.Connection, role: str, statement: str, params=()) -> list[tuple]:
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
        return conn.execute(statement, params).fetchall()


def test_search_ranks_by_cover_density_then_newest_filing(searchable):
    with psycopg.connect(searchable) as conn:
        hits = search(conn, "supply chain")
    assert keys(hits) == [
        (NVDA_FY24, "1A"),
        (AAPL_FY24, "1A"),
        (TSLA_FY23, "1"),
        (AAPL_Q2_25, "II-1A"),  # one mention each: the newer filing first
        (NVDA_FY23, "1A"),
    ]
    ranks = [h["rank"] for h in hits]
    assert ranks == sorted(ranks, reverse=True) and ranks[0] > ranks[1]
    assert ranks[3] == ranks[4]
    nvidia = hits[0]
    assert nvidia["cik"] == NVIDIA and nvidia["company"] == "NVIDIA CORP"
    assert (nvidia["form"], nvidia["filing_date"], nvidia["title"]) == (
        "10-K",
        date(2024, 2, 21),
        "Item 1A. Risk Factors",
    )
    assert nvidia["url"] == "https://www.sec.gov/Archives/edgar/data/1045810/000104581024000029/nvda-20240128.htm"
    # Tesla's filing is not in edgar.filings: its index page.
    assert hits[2]["company"] == "Tesla, Inc."
    assert (
        hits[2]["url"]
        == "https://www.sec.gov/Archives/edgar/data/1318605/000162828024002390/0001628280-24-002390-index.htm"
    )
    for hit in hits:
        assert re.search(r"<b>supply</b>\s+<b>chains?</b>", hit["snippet"], re.I), hit["snippet"]


def test_search_filters_by_company_form_and_dates(searchable):
    with psycopg.connect(searchable) as conn:
        # A CIK as SEC writes it in URLs (no leading zeros) or padded.
        for cik in ("1045810", NVIDIA):
            assert keys(search(conn, "supply chain", cik=cik)) == [(NVDA_FY24, "1A"), (NVDA_FY23, "1A")]
        assert keys(search(conn, "supply chain", form="10-Q")) == [(AAPL_Q2_25, "II-1A")]
        in_2024 = search(conn, "supply chain", filed_from=date(2024, 1, 1), filed_to=date(2024, 12, 31))
        assert keys(in_2024) == [(NVDA_FY24, "1A"), (AAPL_FY24, "1A"), (TSLA_FY23, "1")]
        assert keys(search(conn, "supply chain", filed_from=date(2024, 11, 1))) == [
            (AAPL_FY24, "1A"),
            (AAPL_Q2_25, "II-1A"),
        ]  # bounds included
        assert keys(search(conn, "supply chain", cik=APPLE, form="10-K", filed_to=date(2024, 11, 1))) == [
            (AAPL_FY24, "1A")
        ]
        assert keys(search(conn, "supply chain", max_results=2)) == [(NVDA_FY24, "1A"), (AAPL_FY24, "1A")]
        assert search(conn, "supply chain", max_results=0) == []
        assert len(search(conn, "supply chain", max_results=None)) == 5  # NULL: the default 20
        assert search(conn, "supply chain", cik="0000000001") == []


def test_search_takes_web_search_syntax(searchable):
    with psycopg.connect(searchable) as conn:
        # Apple's 10-K says "exports", NVIDIA's "export": both stem to export.
        assert keys(search(conn, '"supply chain" -export')) == [(TSLA_FY23, "1"), (AAPL_Q2_25, "II-1A")]
        # Both words anywhere, Apple's "controls on imports or exports" too; as a phrase, NVIDIA's
        # "export controls" and "export control rules" only: twice in each 10-K, the newer first.
        assert keys(search(conn, "export controls")) == [(NVDA_FY24, "1A"), (NVDA_FY23, "1A"), (AAPL_FY24, "1A")]
        phrase = search(conn, '"export controls"')
        assert keys(phrase) == [(NVDA_FY24, "1A"), (NVDA_FY23, "1A")]
        assert phrase[0]["rank"] == phrase[1]["rank"]
        for hit in phrase:
            assert re.search(r"<b>export</b>\s+<b>controls?</b>", hit["snippet"], re.I), hit["snippet"]
        either = search(conn, '"carbon footprint" or "rare earths"')
        assert sorted(keys(either)) == sorted([(TSLA_FY23, "1"), (AAPL_Q2_25, "II-1A")])
        assert "<b>carbon</b> <b>footprint</b>" in next(h["snippet"] for h in either if h["cik"] == TESLA)
        # The title counts: "business" is only in Tesla's.
        assert keys(search(conn, "business", form="10-K", cik=TESLA)) == [(TSLA_FY23, "1")]
        # Nothing to search for (stop words only, or nothing): no rows, no error.
        assert search(conn, "the and of") == []
        assert search(conn, "") == []


def test_bi_reader_calls_search_but_cannot_read_sections(searchable):
    signature = "serving.search_sections(text, text, text, date, date, integer)"
    with psycopg.connect(searchable) as conn:
        found = as_role(
            conn, "bi_reader", "SELECT accession_number, snippet FROM serving.search_sections('\"export controls\"')"
        )
        assert [accession for accession, _ in found] == [NVDA_FY24, NVDA_FY23]
        for statement in (
            "SELECT count(*) FROM edgar.filing_sections",
            "SELECT text FROM edgar.filing_sections",
            "SELECT count(*) FROM edgar.filings",
            "UPDATE edgar.filing_sections SET text = ''",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                as_role(conn, "bi_reader", statement)
        # Granted to bi_reader only: not to PUBLIC, so not to the loader either.
        assert conn.execute(
            "SELECT has_function_privilege('bi_reader', %s, 'EXECUTE'), "
            "has_function_privilege('pipeline_loader', %s, 'EXECUTE')",
            (signature, signature),
        ).fetchone() == (True, False)
        definer, config = conn.execute(
            "SELECT prosecdef, proconfig FROM pg_proc WHERE oid = %s::regprocedure", (signature,)
        ).fetchone()
        assert definer and "search_path=pg_catalog, pg_temp" in config


def test_search_api_reads_as_bi_reader_in_a_transaction_of_its_own(searchable):
    with psycopg.connect(searchable) as conn:
        hits = ingest_search.search(conn, '"export controls"', ticker="nvda", limit=1)
        assert [(h.accession_number, h.company, h.item) for h in hits] == [(NVDA_FY24, "NVIDIA CORP", "1A")]
        # The role ended with its transaction; inside an open one it would outlive the search.
        assert conn.execute("SELECT current_user = session_user").fetchone() == (True,)
        with pytest.raises(ingest_search.SearchError, match="transaction of its own"):
            ingest_search.search(conn, "supply chain")
        conn.rollback()
        with pytest.raises(ingest_search.SearchError, match="no company lists the ticker 'ZZZZ'"):
            ingest_search.search(conn, "supply chain", ticker="ZZZZ")


def test_loader_loads_staged_sections_and_reload_changes_nothing(pg_store):
    def stored(conn: psycopg.Connection) -> list[tuple]:
        return conn.execute(
            "SELECT cik, accession_number, item, covers, title, position, text, char_count, headings, updated_at "
            "FROM edgar.filing_sections ORDER BY cik, accession_number, item"
        ).fetchall()

    with psycopg.connect(pg_store, autocommit=True) as conn:  # each load its own transaction
        assert load_dataset(conn, "sections", staged(SECTIONS)) == LoadResult(inserted=5, updated=0, unchanged=0)
        first = stored(conn)
        assert len(first) == 5
        tesla = next(r for r in first if r[0] == TESLA)
        assert tesla[3:6] == (["1"], "ITEM 1. BUSINESS", 0) and tesla[8] == ["Supply Chain"]
        assert tesla[6] == SECTIONS[4]["text"] and tesla[7] == len(SECTIONS[4]["text"])

        # The same rows again: nothing written, updated_at kept.
        assert load_dataset(conn, "sections", staged(SECTIONS)) == LoadResult(inserted=0, updated=0, unchanged=5)
        assert stored(conn) == first

        # A re-read of NVIDIA's FY2024 10-K: its 1A changed and it now has a 7 besides.
        changed = [dict(s) for s in SECTIONS[:1]]
        changed[0]["text"] = "Our supply chain now spans more regions."
        mdna = section(
            NVIDIA, NVDA_FY24, "10-K", "2024-02-21", "7", "Item 7. Management's Discussion", ["Revenue grew."]
        )
        assert load_dataset(conn, "sections", staged([*changed, mdna])) == LoadResult(
            inserted=1, updated=1, unchanged=0
        )
        assert search(conn, '"supply chain" regions') and not search(conn, '"additional supply chain complexity"')
        # Re-read once more without its 7: the filing's item 7 is gone, other filings' sections untouched.
        assert load_dataset(conn, "sections", staged(changed)) == LoadResult(inserted=0, updated=0, unchanged=1)
        assert [r[1:3] for r in stored(conn)] == [r[1:3] for r in first]


def test_a_section_longer_than_the_indexed_prefix_loads(pg_store):
    # 2,000,000 characters (the staged gate's largest section) of random 4-letter words, the most
    # tsvector per character: the whole text's tsvector would be over PostgreSQL's 1 MB.
    rnd = random.Random(13)
    filler = " ".join("".join(rnd.choices(string.ascii_lowercase, k=4)) for _ in range(400_000))
    text = f"quixotic {filler} zeppelin"
    assert len(text) > 2_000_000
    with psycopg.connect(pg_store, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.ProgramLimitExceeded, match="too long for tsvector"):
            conn.execute("SELECT to_tsvector('english', %s)", (text,))
        row = section(NVIDIA, NVDA_FY24, "10-K", "2024-02-21", "8", "Item 8. Financial Statements", [text])
        assert load_dataset(conn, "sections", staged([row])).inserted == 1
        stored, size = conn.execute("SELECT length(text), pg_column_size(search) FROM edgar.filing_sections").fetchone()
        assert stored == len(text) and size < 1024 * 1024
        # Searchable in its first 250,000 characters, the rest stored only.
        assert keys(search(conn, "quixotic")) == [(NVDA_FY24, "8")]
        assert search(conn, "zeppelin") == []


ITEM_CODES = [f"{n}{letter}" for n in range(1, 100) for letter in ("", "A", "B", "C", "D")]


def sample_paragraphs() -> list[dict]:
    """Every paragraph of 300+ characters of the sample's primary documents as a section of its
    own (its filing's form and date), under a replica CIK (999 + the filer's last seven digits)
    and a made-up item code: the key needs one per paragraph."""
    from lxml import html

    rows = []
    for path in sorted((SAMPLE / "edgar" / "documents").glob("CIK*/*/*.htm.gz")):
        cik, accession = path.parent.parent.name[3:], path.parent.name
        filings = normalize_submissions(sample_bytes(f"edgar/submissions/CIK{cik}.json"))[1].to_pylist()
        filing = next(f for f in filings if f["accession_number"] == accession)
        tree = html.fromstring(gzip.decompress(path.read_bytes()))
        texts = [
            " ".join(block.text_content().split())
            for block in tree.iter("div", "p")
            if block.getparent().tag != "td" and not block.xpath(".//div|.//p|.//table")
        ]
        for code, text in zip(ITEM_CODES, [t for t in texts if len(t) >= 300], strict=False):
            rows.append(
                section(
                    f"999{cik[3:]}", accession, filing["form"], filing["filing_date"].isoformat(), code, None, [text]
                )
            )
    return rows


def test_search_reads_the_gin_index(pg_store):
    paragraphs = sample_paragraphs()
    assert len(paragraphs) > 2000, len(paragraphs)
    with psycopg.connect(pg_store, autocommit=True) as conn:
        load_dataset(conn, "sections", staged([*SECTIONS, *paragraphs]))
        conn.execute("ANALYZE edgar.filing_sections")  # no VACUUM: as a load leaves it, pending list and all

        # The function's own query, planned as the function plans it (for each call's values).
        body = conn.execute("SELECT prosrc FROM pg_proc WHERE oid = 'serving.search_sections'::regproc").fetchone()[0]
        prepared = re.sub(r"\bsearch_sections\.(\w+)\b", lambda m: f"${PARAMS.index(m[1]) + 1}", body)
        conn.execute("SET plan_cache_mode = force_custom_plan")
        conn.execute(f"PREPARE search_body(text, text, text, date, date, integer) AS {prepared}")
        plan = "\n".join(
            r[0] for r in conn.execute("EXPLAIN EXECUTE search_body('export controls', NULL, NULL, NULL, NULL, 20)")
        )
        assert "Bitmap Index Scan on filing_sections_search" in plan, plan
        assert "Seq Scan on filing_sections" not in plan, plan

        # And the function itself reads the index (counted per transaction).
        scans = "SELECT pg_stat_get_xact_numscans('edgar.filing_sections_search'::regclass)"
        with conn.transaction():
            before = conn.execute(scans).fetchone()[0]
            hits = search(conn, "export controls")
            assert conn.execute(scans).fetchone()[0] == before + 1
        assert len(hits) == 20 and all(re.search(r"<b>export</b>", h["snippet"], re.I) for h in hits)


def test_cli_prints_ranked_results(searchable):
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDGARFLOW_")}
    env["EDGARFLOW_PG_DSN"] = searchable
    run = [sys.executable, "-m", "ingest.search"]
    done = subprocess.run(
        [*run, '"export controls"', "--ticker", "nvda", "--form", "10-K", "--from", "2023-01-01", "--limit", "5"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    first, second = out.split("\n\n")
    assert first.startswith("1. NVIDIA CORP | 10-K filed 2024-02-21 | Item 1A. Risk Factors | rank 0.800\n")
    assert "change the **export control** rules" in " ".join(first.split())  # wrapped to the terminal
    assert first.rstrip().endswith(
        "https://www.sec.gov/Archives/edgar/data/1045810/000104581024000029/nvda-20240128.htm"
    )
    assert second.startswith("2. NVIDIA CORP | 10-K filed 2023-02-24 | Item 1A. Risk Factors | rank 0.800\n")
    assert "**Export controls** targeting GPUs" in " ".join(second.split())
    assert "<b>" not in out

    quarterly = subprocess.run(
        [*run, "supply chain", "--cik", "320193", "--form", "10-Q"], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert quarterly.returncode == 0, quarterly.stderr
    assert quarterly.stdout.startswith("1. Apple Inc. | 10-Q filed 2025-05-02 | Part II, Item 1A. Risk Factors |")
    assert "**supply chain**" in quarterly.stdout

    unknown = subprocess.run(
        [*run, "supply chain", "--ticker", "ZZZZ"], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert unknown.returncode == 2 and "no company lists the ticker 'ZZZZ'" in unknown.stderr
    nothing = subprocess.run([*run, "hyperloop"], cwd=REPO, env=env, capture_output=True, text=True)
    assert nothing.returncode == 0 and nothing.stdout.strip() == "no matching sections"
