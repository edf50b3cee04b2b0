-- What was quarantined, per day, source, dataset and reason (serving.quarantine_daily).
select day, source, dataset, reason, items, filers, rows
from serving.quarantine_daily
