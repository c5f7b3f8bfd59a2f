-- Provenance of every run and result (what can change a verdict, and its hash), and the run lifecycle:
-- which process owns a run, its heartbeat, and when it was found interrupted.

ALTER TABLE eval_runs ADD COLUMN provenance JSON;              -- the provenance dict given to start_run
ALTER TABLE eval_runs ADD COLUMN provenance_hash VARCHAR;      -- sha256 of its canonical JSON; part of the cache key
ALTER TABLE dimension_results ADD COLUMN provenance_hash VARCHAR;  -- the hash the result was made with

ALTER TABLE eval_runs ADD COLUMN owner_host VARCHAR;           -- socket.gethostname() of the owning process
ALTER TABLE eval_runs ADD COLUMN owner_pid BIGINT;
ALTER TABLE eval_runs ADD COLUMN owner_start BIGINT;           -- its start time (Linux /proc ticks): guards pid reuse
ALTER TABLE eval_runs ADD COLUMN heartbeat_at TIMESTAMP;       -- last sign of life (start, each result, finish)
ALTER TABLE eval_runs ADD COLUMN interrupted_at TIMESTAMP;     -- when it was found unfinished with its owner gone

-- Runs left unfinished before this version cannot still be running: that EvalVerse kept the file open for
-- its whole life, so this migration could not have run beside it.
-- They are stamped with their start, the last moment they are known to have been alive.
UPDATE eval_runs SET interrupted_at = started_at WHERE finished_at IS NULL;
