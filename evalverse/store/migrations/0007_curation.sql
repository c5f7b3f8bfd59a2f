-- The suite builder's human verification: a person's correction of one annotated field or attribute of a
-- clip (or of one of its shots). The newest correction of a (clip, shot, field) wins over the detected value;
-- older ones stay as the history. Values are JSON (a category, a number, a boolean, text or null).
CREATE SEQUENCE curation_correction_id_seq START 1;
CREATE TABLE curation_corrections (
    id            BIGINT PRIMARY KEY DEFAULT nextval('curation_correction_id_seq'),
    clip_sha256   VARCHAR NOT NULL,      -- the annotated file's content hash
    clip          VARCHAR NOT NULL,      -- its id in the annotation file (for people reading the table)
    shot          INTEGER,               -- null: the whole clip
    field         VARCHAR NOT NULL,      -- an annotation field or attribute name
    old_value     JSON,                  -- what the person saw (the detected value or an earlier correction)
    new_value     JSON,
    who           VARCHAR NOT NULL,
    corrected_at  TIMESTAMP NOT NULL,
    source        VARCHAR NOT NULL DEFAULT '',  -- "csv <file> line N" or "app"
    note          VARCHAR NOT NULL DEFAULT ''
);
CREATE INDEX curation_corrections_clip ON curation_corrections (clip_sha256);
