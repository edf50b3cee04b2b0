-- Annual statements as last reported, each value with the filing it comes from on sec.gov.
select
    facts.cik,
    facts.fiscal_year,
    metrics.statement,
    facts.metric,
    metrics.description as metric_description,
    cast(facts.value as {{ float }}) as value,
    facts.unit,
    facts.accession_number,
    facts.form,
    facts.filed_date,
    facts.is_derived,
    concat(
        'https://www.sec.gov/Archives/edgar/data/', cast(cast(facts.cik as int64) as string), '/',
        replace(facts.accession_number, '-', ''), '/', facts.accession_number, '-index.htm'
    ) as filing_url
from {{ marts }}.fct_financial_statements as facts
inner join {{ marts }}.dim_metric as metrics on metrics.metric = facts.metric
where facts.fiscal_period = 'FY' and facts.is_latest
