-- Core of the per-video pipeline: videos, evaluation runs, machine results, the evidence cache.
-- JSON columns hold strict JSON text written by the store (non-finite numbers become null).

CREATE TABLE videos (
    content_hash VARCHAR PRIMARY KEY,          -- sha256 of the file's bytes
    path         VARCHAR,                      -- where it was last seen
    meta         JSON,                         -- technical metadata (VideoMeta.model_dump())
    added_at     TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);

CREATE SEQUENCE eval_run_id_seq START 1;

CREATE TABLE eval_runs (
    id                BIGINT PRIMARY KEY DEFAULT nextval('eval_run_id_seq'),
    video_hash        VARCHAR NOT NULL,
    judge_backend     VARCHAR NOT NULL,
    judge_version     VARCHAR NOT NULL,
    operator_versions JSON NOT NULL,          -- {operator: version}
    settings          JSON NOT NULL,          -- everything that changes a score: sampling, seeds, params
    settings_key      VARCHAR NOT NULL,       -- sha256 of the canonical settings JSON
    prompt            VARCHAR,
    mode              VARCHAR,                -- TaskMode value
    started_at        TIMESTAMP NOT NULL,
    finished_at       TIMESTAMP
);
CREATE INDEX eval_runs_cache_idx ON eval_runs (video_hash, judge_backend, judge_version, settings_key);

CREATE TABLE dimension_results (
    run_id          BIGINT NOT NULL,
    seq             INTEGER NOT NULL,          -- order in which the judge produced it
    dimension       VARCHAR NOT NULL,
    status          VARCHAR NOT NULL CHECK (status IN ('scored', 'gated', 'not_judged', 'unparsed', 'error')),
    score           DOUBLE,
    gate_reason     VARCHAR,
    rationale       VARCHAR NOT NULL DEFAULT '',
    answers         JSON NOT NULL,            -- list of QuestionAnswer
    evidence_used   JSON NOT NULL,            -- operator names cited
    backend         VARCHAR NOT NULL,
    backend_version VARCHAR NOT NULL DEFAULT '',
    seconds         DOUBLE NOT NULL DEFAULT 0,
    result          JSON NOT NULL,            -- the whole DimensionResult, for a lossless round trip
    PRIMARY KEY (run_id, dimension)
);

CREATE TABLE sub_dimension_results (
    run_id        BIGINT NOT NULL,
    dimension     VARCHAR NOT NULL,
    sub_dimension VARCHAR NOT NULL,
    status        VARCHAR NOT NULL,           -- 'scored', or the dimension's status when unscored
    score         DOUBLE,
    PRIMARY KEY (run_id, dimension, sub_dimension)
);

CREATE TABLE evidence (
    video_hash VARCHAR NOT NULL,
    operator   VARCHAR NOT NULL,
    version    VARCHAR NOT NULL,
    params_key VARCHAR NOT NULL,
    record     JSON NOT NULL,                 -- EvidenceRecord.model_dump()
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (video_hash, operator, version, params_key)
);
