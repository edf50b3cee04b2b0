-- Sector benchmarks: per SIC division (A-J, seed sic_divisions) and fiscal year, how many
-- companies report and the median and quartiles of their key ratios from fct_financial_signals.
-- Each company counts once per fiscal year, with the signals of its latest annual report for
-- that year (amendments and later recasts included), and in the division of its current SIC code.
-- Percentiles interpolate linearly and skip companies whose ratio is null.

{%- set ratios = ['gross_margin', 'operating_margin', 'net_margin', 'return_on_equity',
                  'return_on_assets', 'current_ratio', 'debt_to_equity'] %}
{%- set percentiles = {'p25': 0.25, 'median': 0.5, 'p75': 0.75} %}

with

companies as (

    select
        cik,
        {{ dbt.safe_cast('sic', api.Column.translate_type('integer')) }} as sic_code
    from {{ ref('dim_company') }}
    where is_current

),

company_divisions as (

    select
        companies.cik,
        divisions.division,
        divisions.division_name
    from companies
    inner join {{ ref('sic_divisions') }} as divisions
        on companies.sic_code between divisions.sic_from and divisions.sic_to

),

latest_signals as (

    select
        signals.*,
        row_number() over (
            partition by signals.cik, signals.fiscal_year
            order by signals.as_of_date desc, signals.as_of_accession_number desc
        ) as recency
    from {{ ref('fct_financial_signals') }} as signals

),

company_years as (

    select
        company_divisions.division,
        company_divisions.division_name,
        latest_signals.fiscal_year,
        latest_signals.cik,
        {%- for ratio in ratios %}
        latest_signals.{{ ratio }}{{ ',' if not loop.last }}
        {%- endfor %}
    from latest_signals
    inner join company_divisions
        on latest_signals.cik = company_divisions.cik
    where latest_signals.recency = 1

),

percentiles as (

    select
        division,
        division_name,
        fiscal_year,
        cik,
        {%- for ratio in ratios %}
        {%- set outer_loop = loop %}
        {%- for name, fraction in percentiles.items() %}
        {{ percentile_over(ratio, fraction, ['division', 'fiscal_year']) }} as {{ ratio }}_{{ name }}
            {{- ',' if not (outer_loop.last and loop.last) }}
        {%- endfor %}
        {%- endfor %}
    from company_years

),

final as (

    select
        ----- ids
        cast(division as {{ dbt.type_string() }}) as sic_division,
        cast(division_name as {{ dbt.type_string() }}) as sic_division_name,
        cast(fiscal_year as {{ dbt.type_bigint() }}) as fiscal_year,

        ----- population
        cast(count(*) as {{ dbt.type_bigint() }}) as company_count,

        ----- ratio distributions (the window values are constant per division and year)
        {%- for ratio in ratios %}
        {%- set outer_loop = loop %}
        {%- for name in percentiles %}
        cast(max({{ ratio }}_{{ name }}) as {{ type_value() }}) as {{ ratio }}_{{ name }}
            {{- ',' if not (outer_loop.last and loop.last) }}
        {%- endfor %}
        {%- endfor %}

    from percentiles
    group by division, division_name, fiscal_year

)

select * from final
