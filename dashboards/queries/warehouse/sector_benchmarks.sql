-- Quartiles of each ratio per SIC division and fiscal year.
select
    sic_division,
    sic_division_name as sector,
    fiscal_year,
    company_count,
    cast(gross_margin_median as {{ float }}) as gross_margin_median,
    cast(operating_margin_p25 as {{ float }}) as operating_margin_p25,
    cast(operating_margin_median as {{ float }}) as operating_margin_median,
    cast(operating_margin_p75 as {{ float }}) as operating_margin_p75,
    cast(net_margin_p25 as {{ float }}) as net_margin_p25,
    cast(net_margin_median as {{ float }}) as net_margin_median,
    cast(net_margin_p75 as {{ float }}) as net_margin_p75,
    cast(return_on_equity_median as {{ float }}) as return_on_equity_median,
    cast(return_on_assets_median as {{ float }}) as return_on_assets_median,
    cast(current_ratio_median as {{ float }}) as current_ratio_median,
    cast(debt_to_equity_median as {{ float }}) as debt_to_equity_median
from {{ marts }}.agg_sector_benchmarks
