{{ config(partition_by=month_partitions('filing_date')) }}
-- Text signals of each 10-K, known as of its filing date: its Risk Factors (Item 1A) and MD&A
-- (Item 7) measured and compared with the same filer's previous 10-K (filed before it), as in
-- Cohen, Malloy and Nguyen's "Lazy Prices"; beside them the financial signals of the same annual
-- report (fct_financial_signals, also as of its filing date). Formulas per column in _text.yml;
-- similarities and readability are computed in ingest/text/signals.py, the changes here.

with

text as (

    select * from {{ ref('stg_edgar__text_signals') }}

),

financial as (

    select * from {{ ref('fct_financial_signals') }}

)

select
    text.cik,
    text.accession_number,
    text.form,
    text.filing_date,
    text.previous_accession_number,
    text.text_flag,
    text.risk_factors_chars,
    text.mda_chars,
    text.risk_factors_words,
    text.mda_words,
    {{ safe_divide('text.risk_factors_chars', 'text.previous_risk_factors_chars') }} - 1 as risk_factors_chars_change,
    {{ safe_divide('text.mda_chars', 'text.previous_mda_chars') }} - 1 as mda_chars_change,
    text.risk_factors_cosine,
    text.risk_factors_jaccard,
    text.mda_cosine,
    text.mda_jaccard,
    text.risk_headings,
    text.risk_headings_added_count,
    text.risk_headings_removed_count,
    text.risk_headings_added,
    text.risk_headings_removed,
    text.risk_factors_fog,
    text.mda_fog,
    financial.fiscal_year,
    financial.revenue_growth_yoy,
    financial.gross_margin,
    financial.operating_margin,
    financial.net_margin,
    financial.return_on_equity,
    financial.return_on_assets,
    financial.free_cash_flow_margin,
    financial.debt_to_equity,
    financial.piotroski_f_score,
    financial.altman_z_score
from text
left join financial
    on financial.cik = text.cik
    and financial.as_of_accession_number = text.accession_number
