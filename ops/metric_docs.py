"""The canonical-metric table of the READMEs, written from the dbt seeds that define the metrics
(metric_definitions, metric_tags, metric_derivations): `python -m ops.metric_docs` rewrites the
table between its markers in README.md and dbt_project/README.md; tests/test_metric_docs.py checks
that both agree with the seeds."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "dbt_project" / "seeds"
DOCS = (REPO / "README.md", REPO / "dbt_project" / "README.md")
BEGIN = "<!-- metric table: written by `python -m ops.metric_docs` from the seeds -->"
END = "<!-- end of metric table -->"


def _rows(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def metric_table() -> str:
    """One row per metric: what it means, its tags in the order they win, its derivations, when null."""
    tags: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for row in _rows("metric_tags"):
        tags[row["metric"]].append((int(row["priority"]), f"{row['taxonomy']}:{row['tag']}"))
    rules: dict[str, dict[tuple[int, str], list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in sorted(_rows("metric_derivations"), key=lambda r: (-int(r["weight"]), r["operand"])):
        optional = "" if row["is_required"] == "true" else " (if filed)"
        sign = "+" if row["weight"] == "1" else "−"
        rules[row["metric"]][(int(row["priority"]), row["derivation"])].append(f"{sign} {row['operand']}{optional}")
    lines = [
        "| metric | statement | what it means | tags, in the order they win | derived, when no tag is filed | null when |",
        "|---|---|---|---|---|---|",
    ]
    for d in _rows("metric_definitions"):
        metric = d["metric"]
        ordered = [t for _, t in sorted(tags[metric], key=lambda p: (p[1].split(":")[0] != "us-gaap", p))]
        derived = [
            f"`{' '.join(ops).removeprefix('+ ')}`" for _, ops in sorted(rules[metric].items())
        ]
        null = "no tag above is filed for the period" + (" and no derivation can be computed" if derived else "")
        if d["sign"] == "non_negative":
            null += "; stored as a positive payment"
        lines.append(
            f"| `{metric}` | {d['statement'].replace('_', ' ')} | {d['description']} | "
            f"{', '.join(f'`{t}`' for t in ordered)} | {'; '.join(derived) or '—'} | {null} |"
        )
    return "\n".join(lines)


def render(text: str) -> str:
    """``text`` with the table between the markers replaced by the seeds' current table."""
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{metric_table()}\n{END}{tail}"


def main() -> None:
    for doc in DOCS:
        doc.write_text(render(doc.read_text()))


if __name__ == "__main__":
    main()
