"""SEC's vocabulary as edgarflow uses it: the XBRL taxonomies companyfacts carries and the forms
of each kind of report. One definition, read by normalization, the gates and (through the seed
it writes, ``python -m ingest.sec.vocab``) by dbt; tests/test_vocab.py checks that they agree.
"""

from __future__ import annotations

import csv
import io
import sys

from ingest.settings import PROJECT_ROOT

# SEC's standard taxonomies: companyfacts never carries a filer's own extension taxonomy, so
# anything else means the payload is not what we think it is.
TAXONOMIES = frozenset(
    {
        "us-gaap", "ifrs-full", "dei", "srt",  # financial statements and cover page
        "invest", "ecd", "ffd", "cyd",  # investments, executive pay, filing fees, cybersecurity
        "spac", "rxp", "oef", "vip", "sro", "snj", "cef", "rr",  # SPACs, payments, funds, insurers, SROs
    }
)  # fmt: skip


def _amended(*forms: str) -> frozenset[str]:
    return frozenset(f for form in forms for f in (form, f"{form}/A"))


# Annual reports, transition reports (10-KT: a change of fiscal year) included: each is an as-of
# point of the financial signals.
ANNUAL_REPORT_FORMS = _amended("10-K", "10-KT", "20-F", "40-F")
# Periodic reports: annual and quarterly. Their primary documents are landed, and companyfacts
# should list their XBRL within days (freshness).
PERIODIC_REPORT_FORMS = ANNUAL_REPORT_FORMS | _amended("10-Q", "10-QT")
# Forms of foreign private issuers: their share counts are ordinary shares, while the US listing
# is often an ADR of several shares at a ratio XBRL does not give (TSMC: 1 ADR = 5 shares).
FOREIGN_ISSUER_FORMS = _amended("20-F", "40-F", "6-K")
# Forms whose XBRL facts are financial statements (or recasts of them, 8-K). Proxy statements
# (pay-versus-performance tables) and prospectuses repeat figures and are left out.
FINANCIAL_REPORT_FORMS = PERIODIC_REPORT_FORMS | FOREIGN_ISSUER_FORMS | _amended("8-K")

SEED = PROJECT_ROOT / "dbt_project" / "seeds" / "sec_forms.csv"
_KINDS = {
    "is_financial_report": FINANCIAL_REPORT_FORMS,
    "is_periodic_report": PERIODIC_REPORT_FORMS,
    "is_annual_report": ANNUAL_REPORT_FORMS,
    "is_foreign_issuer": FOREIGN_ISSUER_FORMS,
}


def forms_seed() -> str:
    """dbt_project/seeds/sec_forms.csv: one row per form with a flag per kind."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["form", *_KINDS])
    for form in sorted(FINANCIAL_REPORT_FORMS):
        writer.writerow([form, *("true" if form in forms else "false" for forms in _KINDS.values())])
    return out.getvalue()


if __name__ == "__main__":
    SEED.write_text(forms_seed())
    print(f"wrote {SEED}", file=sys.stderr)
