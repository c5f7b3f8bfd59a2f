-- Browsing stored runs (Runs tab, `evalverse runs show`): what each run's operators did, so a stored run can be
-- shown as it was diagnosed (status, backend, seconds, message per operator) without running anything.
-- Written by finish_run; null for runs finished before this version (their view says so).
ALTER TABLE eval_runs ADD COLUMN operators JSON;   -- {operator: {status, backend, seconds, cached, message}}
