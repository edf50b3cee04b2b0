{#- Fiscal calendar arithmetic in plain integer SQL, identical on DuckDB and BigQuery.

    A date is placed on a "fiscal month": its calendar month when it falls on or after the 15th,
    else the month before. 52/53-week years end on a weekday near a month end (Apple: last Saturday
    of September, e.g. 2023-09-30 or 2022-09-24; NVIDIA: last Sunday of January, 2024-01-28;
    retailers: early February), so every such period end lands on the month it closes. -#}

{% macro fiscal_month_index(date_expr) -%}
    (extract(year from {{ date_expr }}) * 12 + extract(month from {{ date_expr }}) - 1
     - case when extract(day from {{ date_expr }}) < 15 then 1 else 0 end)
{%- endmacro %}

{#- 0..11: fiscal months from the fiscal year end to `month_index`; 0 = a fiscal year end,
    3/6/9 = the end of Q1/Q2/Q3. `fye_month` is 1..12. -#}
{% macro months_after_fiscal_year_end(month_index, fye_month) -%}
    mod({{ month_index }} - ({{ fye_month }} - 1) + 12, 12)
{%- endmacro %}

{#- The fiscal year is named by the calendar year of the fiscal month it ends in (Apple FY2023
    ends 2023-09-30; NVIDIA FY2024 ends 2024-01-28; a year ending 2021-01-02 is FY2020).
    `months_after` is months_after_fiscal_year_end of the same month_index. -#}
{% macro fiscal_year_of(month_index, months_after) -%}
    cast(({{ month_index }} + mod(12 - {{ months_after }}, 12)
          - mod({{ month_index }} + mod(12 - {{ months_after }}, 12), 12)) / 12 as {{ dbt.type_bigint() }})
{%- endmacro %}

{#- Fiscal month (1..12) of a fiscal year end given as MMDD ('0926' -> 9, '0131' -> 1, '0103' -> 12). -#}
{% macro fiscal_year_end_month(mmdd_expr) -%}
    (mod(cast(substr({{ mmdd_expr }}, 1, 2) as {{ dbt.type_int() }}) + 10
         + case when cast(substr({{ mmdd_expr }}, 3, 2) as {{ dbt.type_int() }}) < 15 then 0 else 1 end, 12) + 1)
{%- endmacro %}
