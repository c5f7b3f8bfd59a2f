-- Benchmark runs (suites, their cases, one row per submitted clip and judge) and confidence intervals
-- for computed leaderboard sources. Read and written by evalverse/store/bench.py.

CREATE TABLE bench_suites (
    name          VARCHAR PRIMARY KEY,        -- suite name (used in source names "<suite>:<judge>@<version>")
    path          VARCHAR NOT NULL,           -- where the suite file was last read
    sha256        VARCHAR NOT NULL,           -- of the suite file's bytes
    version       VARCHAR NOT NULL DEFAULT '1',
    description   VARCHAR NOT NULL DEFAULT '',
    n_cases       INTEGER NOT NULL,
    registered_at TIMESTAMP NOT NULL
);

CREATE TABLE bench_cases (
    suite        VARCHAR NOT NULL,
    case_id      VARCHAR NOT NULL,
    test_case_id BIGINT NOT NULL,             -- test_cases.id (found by prompt and mode, else added)
    prompt       VARCHAR NOT NULL,
    mode         VARCHAR NOT NULL,
    reference    VARCHAR,                     -- absolute path when the suite was registered
    ground_truth VARCHAR,
    tags         JSON NOT NULL,
    PRIMARY KEY (suite, case_id)
);

-- One row per (suite, model, judge, case, seed): the row is written once the clip's results are in the
-- store (status done) or its failure is known (status error), so a killed run resumes without duplicates.
CREATE TABLE bench_items (
    suite         VARCHAR NOT NULL,
    model         VARCHAR NOT NULL,
    judge         VARCHAR NOT NULL,           -- judge backend name
    case_id       VARCHAR NOT NULL,
    seed          INTEGER NOT NULL,           -- 0 for <case>.<ext>, n for <case>-<n>.<ext>
    path          VARCHAR NOT NULL,
    video_hash    VARCHAR,                    -- null when the file could not be read
    request_key   VARCHAR NOT NULL,           -- judge, dimensions and judge options the run was asked for
    judge_version VARCHAR,
    status        VARCHAR NOT NULL CHECK (status IN ('done', 'error')),
    run_id        BIGINT,                     -- eval_runs.id for done items
    cached        BOOLEAN NOT NULL DEFAULT FALSE,
    error_kind    VARCHAR,                    -- unreadable | input | error
    error         VARCHAR,
    seconds       DOUBLE NOT NULL DEFAULT 0,
    engine        VARCHAR NOT NULL DEFAULT 'local',
    updated_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (suite, model, judge, case_id, seed)
);

-- Computed sources: intervals, case counts and pair exclusions beside the win ratios.
ALTER TABLE leaderboard_win_ratios ADD COLUMN machine_ci_low DOUBLE;
ALTER TABLE leaderboard_win_ratios ADD COLUMN machine_ci_high DOUBLE;
ALTER TABLE leaderboard_win_ratios ADD COLUMN human_ci_low DOUBLE;
ALTER TABLE leaderboard_win_ratios ADD COLUMN human_ci_high DOUBLE;
ALTER TABLE leaderboard_win_ratios ADD COLUMN n_cases INTEGER;          -- cases with at least one counted pair
ALTER TABLE leaderboard_win_ratios ADD COLUMN n_pairs INTEGER;          -- counted pairs (comparisons)
ALTER TABLE leaderboard_win_ratios ADD COLUMN n_excluded INTEGER;       -- pairs left out (gated, not judged, error)
ALTER TABLE leaderboard_win_ratios ADD COLUMN human_n_cases INTEGER;

CREATE TABLE leaderboard_ratings (
    source    VARCHAR NOT NULL,
    dimension VARCHAR NOT NULL,               -- a taxonomy dimension id, or 'overall' (all dimensions pooled)
    model     VARCHAR NOT NULL,
    rating    DOUBLE,                         -- Bradley-Terry, Elo-like scale (mean 1000)
    ci_low    DOUBLE,
    ci_high   DOUBLE,
    rank_ub   INTEGER,                        -- 1 + models better beyond doubt
    n_battles INTEGER NOT NULL,
    PRIMARY KEY (source, dimension, model)
);

CREATE TABLE leaderboard_sources (
    source        VARCHAR PRIMARY KEY,
    kind          VARCHAR NOT NULL,           -- 'bench' (computed here); the paper's seed has no row
    suite         VARCHAR,
    judge         VARCHAR,
    judge_version VARCHAR,
    settings      JSON NOT NULL,              -- n_boot, ci, seed, min_cases, human QA filter
    summary       JSON NOT NULL,              -- models, cases, excluded pairs per reason and dimension
    updated_at    TIMESTAMP NOT NULL
);
