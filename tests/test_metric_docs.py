"""The READMEs' metric table is the seeds' (ops.metric_docs): every metric, its tags in order, its derivations."""

from __future__ import annotations

import csv

from ops import metric_docs


def test_both_readmes_show_the_seeds_metric_table():
    for doc in metric_docs.DOCS:
        text = doc.read_text()
        assert metric_docs.BEGIN in text, f"{doc.name}: no metric table; run `python -m ops.metric_docs`"
        assert metric_docs.render(text) == text, f"{doc.name} is stale: run `python -m ops.metric_docs`"


def test_the_table_lists_every_metric_with_its_tags_in_priority_order():
    table = metric_docs.metric_table()
    with (metric_docs.SEEDS / "metric_definitions.csv").open() as f:
        metrics = [r["metric"] for r in csv.DictReader(f)]
    rows = {line.split("|")[1].strip(" `"): line for line in table.splitlines()[2:]}
    assert list(rows) == metrics
    revenue = rows["revenue"]
    assert revenue.index("us-gaap:Revenues`") < revenue.index("us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax")
    assert "`revenue_goods (if filed) + revenue_services (if filed)`" in revenue
    assert "`net_income_including_nci − net_income_nci (if filed)`" in rows["net_income"]
    assert "LongTermDebtCurrent" not in rows["short_term_debt"] and "LongTermDebtCurrent" in rows["long_term_debt_current"]
    assert "positive payment" in rows["capex"]
