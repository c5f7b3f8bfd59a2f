-- Human judgments from files and from the app: import sources, people and their role tokens, annotation
-- tasks (one test case, two or more outputs), submissions, reviews, audits.
-- Text (prompts, notes, reasons) is stored as given and is plain text: shown, never rendered as HTML.

-- 1. Pairwise outcomes gain 'both_bad' (a CHECK cannot be altered in place: rebuild, keeping ids) and
--    both judgment tables gain their provenance. `uid` is a judgment's identity across stores (export /
--    import); `source` names a human_sources row ('app' for judgments made in the app).
CREATE TABLE human_pairwise_v5 (
    id            BIGINT PRIMARY KEY DEFAULT nextval('human_judgment_id_seq'),
    test_case_id  BIGINT,
    dimension     VARCHAR NOT NULL,
    model_a       VARCHAR,                -- null when the source does not say which model made it
    model_b       VARCHAR,
    video_a       VARCHAR,                -- content hash, else the name the source gives
    video_b       VARCHAR,
    winner        VARCHAR NOT NULL CHECK (winner IN ('a', 'b', 'tie', 'both_bad')),
    annotator     VARCHAR NOT NULL,
    qa_status     VARCHAR NOT NULL DEFAULT 'pending' CHECK (qa_status IN ('pass', 'fail', 'pending')),
    created_at    TIMESTAMP NOT NULL,
    uid           VARCHAR DEFAULT (gen_random_uuid()::VARCHAR),
    source        VARCHAR,
    suite         VARCHAR,
    case_key      VARCHAR,                -- the test case's id in its suite or data set
    sub_dimension VARCHAR,
    axis          VARCHAR,                -- the source's own rating axis, before mapping
    submission_id BIGINT,                 -- annotation_submissions.id for judgments made in the app
    left_side     VARCHAR CHECK (left_side IN ('a', 'b')),  -- which of the two was shown on the left
    seconds       DOUBLE,
    note          VARCHAR
);
INSERT INTO human_pairwise_v5 (id, test_case_id, dimension, model_a, model_b, video_a, video_b, winner, annotator,
                               qa_status, created_at)
    SELECT id, test_case_id, dimension, model_a, model_b, video_a, video_b, winner, annotator, qa_status, created_at
    FROM human_pairwise;
DROP TABLE human_pairwise;
ALTER TABLE human_pairwise_v5 RENAME TO human_pairwise;
CREATE UNIQUE INDEX human_pairwise_uid ON human_pairwise (uid);

ALTER TABLE human_pointwise ALTER COLUMN model DROP NOT NULL;  -- a rated file whose model nobody names
ALTER TABLE human_pointwise ADD COLUMN uid VARCHAR DEFAULT (gen_random_uuid()::VARCHAR);
ALTER TABLE human_pointwise ADD COLUMN source VARCHAR;
ALTER TABLE human_pointwise ADD COLUMN suite VARCHAR;
ALTER TABLE human_pointwise ADD COLUMN case_key VARCHAR;
ALTER TABLE human_pointwise ADD COLUMN sub_dimension VARCHAR;
ALTER TABLE human_pointwise ADD COLUMN axis VARCHAR;
ALTER TABLE human_pointwise ADD COLUMN video_name VARCHAR;   -- file name or id (video_hash when the file exists)
ALTER TABLE human_pointwise ADD COLUMN scale_min DOUBLE;
ALTER TABLE human_pointwise ADD COLUMN scale_max DOUBLE;
ALTER TABLE human_pointwise ADD COLUMN seconds DOUBLE;
ALTER TABLE human_pointwise ADD COLUMN note VARCHAR;
CREATE UNIQUE INDEX human_pointwise_uid ON human_pointwise (uid);

-- 2. Where imported judgments came from: the file, its hash, the axis → taxonomy mapping applied, the scale.
CREATE TABLE human_sources (
    id          VARCHAR PRIMARY KEY,
    format      VARCHAR NOT NULL,        -- fetv | pointwise | pairwise | jsonl | app
    path        VARCHAR,
    file_sha256 VARCHAR,
    mapping     JSON NOT NULL,           -- {axis: {dimension, sub_dimension, reason}}
    scale_min   DOUBLE,
    scale_max   DOUBLE,
    citation    VARCHAR NOT NULL DEFAULT '',
    licence     VARCHAR NOT NULL DEFAULT '',
    imported_at TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

-- 3. People (annotators, reviewers, auditors) and their personal access tokens, one per role held.
--    A token is `evv_<token_id>_<secret>`; only a salted scrypt hash of the secret is kept.
CREATE SEQUENCE annotator_id_seq START 1;
CREATE TABLE annotators (
    id         BIGINT PRIMARY KEY DEFAULT nextval('annotator_id_seq'),
    name       VARCHAR NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE annotator_tokens (
    token_id     VARCHAR PRIMARY KEY,
    annotator_id BIGINT NOT NULL,
    role         VARCHAR NOT NULL CHECK (role IN ('annotator', 'reviewer', 'auditor')),
    kdf          VARCHAR NOT NULL,       -- e.g. scrypt:n=16384,r=8,p=1
    salt         VARCHAR NOT NULL,       -- hex
    token_hash   VARCHAR NOT NULL,       -- hex
    created_at   TIMESTAMP NOT NULL,
    revoked_at   TIMESTAMP
);

-- 4. Annotation tasks: one test case, two or more outputs, the reference; which dimensions apply; the
--    left-to-right order the outputs are shown in (randomised per task); how many independent
--    annotations it wants.
CREATE SEQUENCE annotation_id_seq START 1;
CREATE TABLE annotation_tasks (
    id            BIGINT PRIMARY KEY DEFAULT nextval('annotation_id_seq'),
    uid           VARCHAR NOT NULL UNIQUE,
    suite         VARCHAR,
    case_key      VARCHAR NOT NULL,
    test_case_id  BIGINT,
    prompt        VARCHAR NOT NULL DEFAULT '',
    mode          VARCHAR NOT NULL,
    reference     JSON NOT NULL,          -- list of paths / content hashes
    ground_truth  JSON,
    dimensions    JSON NOT NULL,          -- taxonomy dimension ids, in taxonomy order
    display_order JSON NOT NULL,          -- output slots, left to right
    required      INTEGER NOT NULL CHECK (required >= 1),
    created_at    TIMESTAMP NOT NULL,
    finalised_at  TIMESTAMP,
    finalised_by  BIGINT
);
CREATE TABLE annotation_outputs (
    task_id    BIGINT NOT NULL,
    slot       INTEGER NOT NULL,          -- 0 = a, 1 = b, ...
    model      VARCHAR NOT NULL,
    video_hash VARCHAR,
    video_path VARCHAR,
    PRIMARY KEY (task_id, slot)
);
-- A claim on a task by an annotator (given by the scheduler); it counts towards `required` until it
-- expires unsubmitted.
CREATE TABLE annotation_assignments (
    task_id      BIGINT NOT NULL,
    annotator_id BIGINT NOT NULL,
    assigned_at  TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (task_id, annotator_id)
);
-- One annotator's label for one dimension of one task: a strict ranking of the slots (best first), or
-- for two outputs an outcome a / b / tie / both_bad.
CREATE TABLE annotation_submissions (
    id            BIGINT PRIMARY KEY DEFAULT nextval('annotation_id_seq'),
    uid           VARCHAR NOT NULL UNIQUE,
    task_id       BIGINT NOT NULL,
    annotator_id  BIGINT NOT NULL,
    dimension     VARCHAR NOT NULL,
    ranking       JSON,                   -- slots best → worst; null for tie / both_bad
    outcome       VARCHAR CHECK (outcome IN ('a', 'b', 'tie', 'both_bad')),
    note          VARCHAR NOT NULL DEFAULT '',
    seconds       DOUBLE,
    display_order JSON NOT NULL,          -- what the annotator was shown, left to right
    submitted_at  TIMESTAMP NOT NULL,
    UNIQUE (task_id, annotator_id, dimension)
);
CREATE TABLE annotation_reviews (
    id            BIGINT PRIMARY KEY DEFAULT nextval('annotation_id_seq'),
    uid           VARCHAR NOT NULL UNIQUE,
    submission_id BIGINT NOT NULL,
    reviewer_id   BIGINT NOT NULL,
    verdict       VARCHAR NOT NULL CHECK (verdict IN ('pass', 'fail')),
    reason        VARCHAR NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL,
    UNIQUE (submission_id, reviewer_id)
);
-- An auditor's decision on one submission (accept / reject), or the task's finalisation (submission null).
CREATE TABLE annotation_audits (
    id            BIGINT PRIMARY KEY DEFAULT nextval('annotation_id_seq'),
    uid           VARCHAR NOT NULL UNIQUE,
    task_id       BIGINT NOT NULL,
    submission_id BIGINT,
    auditor_id    BIGINT NOT NULL,
    decision      VARCHAR NOT NULL CHECK (decision IN ('accept', 'reject', 'finalise')),
    reason        VARCHAR NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL
);
-- Who has seen a task's labels in a reviewing role: they may no longer annotate it.
CREATE TABLE annotation_label_views (
    task_id      BIGINT NOT NULL,
    annotator_id BIGINT NOT NULL,
    role         VARCHAR NOT NULL,
    seen_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (task_id, annotator_id)
);
