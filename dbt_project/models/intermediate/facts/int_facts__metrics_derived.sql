{{ config(materialized='incremental', pre_hook="{{ delete_changed_filers() }}") }}
-- Metrics a filing does not tag but reports through other metrics (seed metric_derivations):
-- parent equity as total equity less noncontrolling interest, parent net income as consolidated
-- net income less the NCI share or as income available to common plus preferred dividends
-- (Ford 2016-2020), revenue as goods plus services (Shopify 2013-2016) or, for banks, net
-- interest plus noninterest income. Operands are the tagged values of the same filing, fiscal
-- period, dates and unit; an optional operand not filed counts as zero, a required one must be
-- filed. Never computed where the filing tags the metric itself. source_tag lists every operand's
-- tag with its sign, so each derived value traces to the facts it comes from.

with

tagged as (

    select * from {{ ref('int_facts__best_tag_selected') }}
    where {{ changed_filers() }}

),

derivations as (

    select
        metric_derivations.*,
        sum(case when is_required then 1 else 0 end) over (
            partition by metric, derivation
        ) as required_operands
    from {{ ref('metric_derivations') }} as metric_derivations

),

operands as (

    select
        derivations.metric,
        derivations.derivation,
        derivations.priority,
        derivations.required_operands,
        derivations.is_required,
        derivations.weight,
        tagged.cik,
        tagged.fiscal_year,
        tagged.fiscal_period,
        tagged.accession_number,
        tagged.form,
        tagged.filed_date,
        tagged.period_start,
        tagged.period_end,
        tagged.unit,
        tagged.value,
        tagged.source_tag
    from derivations
    inner join tagged
        on tagged.metric = derivations.operand

),

computed as (

    select
        metric,
        derivation,
        priority,
        cik,
        fiscal_year,
        fiscal_period,
        accession_number,
        form,
        filed_date,
        period_start,
        period_end,
        unit,
        sum(weight * value) as value,
        {{ dbt.listagg(
            "concat(case when weight < 0 then '- ' else '+ ' end, source_tag)",
            "' '",
            "order by weight desc, source_tag"
        ) }} as signed_tags
    from operands
    group by
        metric, derivation, priority, required_operands, cik, fiscal_year, fiscal_period,
        accession_number, form, filed_date, period_start, period_end, unit
    having sum(case when is_required then 1 else 0 end) = required_operands

),

untagged as (

    select computed.*
    from computed
    left join tagged
        on tagged.cik = computed.cik
        and tagged.metric = computed.metric
        and tagged.fiscal_year = computed.fiscal_year
        and tagged.fiscal_period = computed.fiscal_period
        and tagged.accession_number = computed.accession_number
    where tagged.cik is null

),

ranked as (

    select
        untagged.*,
        row_number() over (
            partition by cik, metric, fiscal_year, fiscal_period, accession_number
            order by priority, period_end desc, unit
        ) as derivation_rank
    from untagged

)

select
    ranked.cik,
    ranked.metric,
    ranked.fiscal_year,
    ranked.fiscal_period,
    ranked.period_start,
    ranked.period_end,
    ranked.value,
    ranked.unit,
    metric_definitions.period_type,
    metric_definitions.unit_type,
    -- "+ a - b" reads "a - b"; every derivation has an operand of weight +1, listed first.
    substr(ranked.signed_tags, 3) as source_tag,
    ranked.accession_number,
    ranked.form,
    ranked.filed_date,
    ranked.derivation
from ranked
inner join {{ ref('metric_definitions') }} as metric_definitions
    on ranked.metric = metric_definitions.metric
where ranked.derivation_rank = 1
