-- Every SIC code falls in at most one division.
select a.division, b.division as overlapping_division
from {{ ref('sic_divisions') }} as a
inner join {{ ref('sic_divisions') }} as b
    on a.division < b.division
    and a.sic_from <= b.sic_to
    and b.sic_from <= a.sic_to
