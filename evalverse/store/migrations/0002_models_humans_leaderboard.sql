-- Generation models, test cases, human judgments, and the leaderboard's win ratios.

CREATE TABLE generation_models (
    name         VARCHAR PRIMARY KEY,
    organisation VARCHAR,                     -- null when the source does not say
    open_source  BOOLEAN,                     -- null when the source does not say
    params_b     DOUBLE,                      -- parameter count in billions; null when not published
    audio        BOOLEAN NOT NULL DEFAULT FALSE,
    multi_shot   BOOLEAN NOT NULL DEFAULT FALSE,
    reference    BOOLEAN NOT NULL DEFAULT FALSE,
    notes        VARCHAR NOT NULL DEFAULT '',
    updated_at   TIMESTAMP NOT NULL
);

CREATE SEQUENCE test_case_id_seq START 1;

CREATE TABLE test_cases (
    id               BIGINT PRIMARY KEY DEFAULT nextval('test_case_id_seq'),
    prompt           VARCHAR NOT NULL,
    mode             VARCHAR NOT NULL,        -- TaskMode value
    reference_assets JSON NOT NULL,           -- list of paths or content hashes
    created_at       TIMESTAMP NOT NULL
);

-- Which model made a video, and for which test case (both optional: uploads have neither).
ALTER TABLE videos ADD COLUMN model VARCHAR;
ALTER TABLE videos ADD COLUMN test_case_id BIGINT;

CREATE SEQUENCE human_judgment_id_seq START 1;

CREATE TABLE human_pairwise (
    id           BIGINT PRIMARY KEY DEFAULT nextval('human_judgment_id_seq'),
    test_case_id BIGINT,
    dimension    VARCHAR NOT NULL,
    model_a      VARCHAR NOT NULL,
    model_b      VARCHAR NOT NULL,
    video_a      VARCHAR,
    video_b      VARCHAR,
    winner       VARCHAR NOT NULL CHECK (winner IN ('a', 'b', 'tie')),
    annotator    VARCHAR NOT NULL,
    qa_status    VARCHAR NOT NULL DEFAULT 'pending' CHECK (qa_status IN ('pass', 'fail', 'pending')),
    created_at   TIMESTAMP NOT NULL
);

CREATE TABLE human_pointwise (
    id           BIGINT PRIMARY KEY DEFAULT nextval('human_judgment_id_seq'),
    test_case_id BIGINT,
    dimension    VARCHAR NOT NULL,
    model        VARCHAR NOT NULL,
    video_hash   VARCHAR,
    score        DOUBLE NOT NULL,
    annotator    VARCHAR NOT NULL,
    qa_status    VARCHAR NOT NULL DEFAULT 'pending' CHECK (qa_status IN ('pass', 'fail', 'pending')),
    created_at   TIMESTAMP NOT NULL
);

CREATE TABLE leaderboard_win_ratios (
    source            VARCHAR NOT NULL,       -- e.g. 'paper_table3', or a computed source
    dimension         VARCHAR NOT NULL,       -- taxonomy dimension id
    model             VARCHAR NOT NULL,
    machine_win_ratio DOUBLE CHECK (machine_win_ratio BETWEEN 0 AND 1),
    human_win_ratio   DOUBLE CHECK (human_win_ratio BETWEEN 0 AND 1),
    updated_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (source, dimension, model)
);
