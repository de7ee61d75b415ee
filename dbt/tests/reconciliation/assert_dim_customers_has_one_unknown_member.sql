-- Orphan facts need exactly one "unknown customer" member to point at. Returns a row otherwise.

select count(*) as unknown_members
from {{ ref('dim_customers') }}
where is_unknown_member
having count(*) != 1
