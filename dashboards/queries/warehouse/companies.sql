-- Current companies with their SIC division (the sector the screener and benchmarks filter by).
select
    companies.cik,
    companies.name,
    companies.tickers,
    companies.sic,
    companies.sic_description,
    coalesce(divisions.division_name, 'Unclassified') as sector,
    companies.state_of_incorporation,
    companies.fiscal_year_end
from {{ marts }}.dim_company as companies
left join {{ seeds }}.sic_divisions as divisions
    on cast(nullif(companies.sic, '') as int64) between divisions.sic_from and divisions.sic_to
where companies.is_current
