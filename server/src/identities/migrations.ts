/**
 * The registry's schema, as an ordered list of migrations. `RegistryDatabase.open()` applies the
 * ones above `PRAGMA user_version` in one transaction each and bumps the version; a migration is
 * never edited once released, only followed by another.
 *
 * Paths stored in the database are relative to the data directory, so the directory can move.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: identities, consent, source, versions, publications, jobs, grants, audit log.
  `
  CREATE TABLE identities (
    id                TEXT PRIMARY KEY,
    display_name      TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    published_version INTEGER
  );
  CREATE TABLE consents (
    identity_id  TEXT PRIMARY KEY REFERENCES identities(id) ON DELETE CASCADE,
    subject_name TEXT NOT NULL,
    uploaded_by  TEXT NOT NULL,
    statement    TEXT NOT NULL,
    method       TEXT NOT NULL CHECK (method IN ('admin', 'self')),
    recorded_at  TEXT NOT NULL
  );
  CREATE TABLE sources (
    identity_id TEXT PRIMARY KEY REFERENCES identities(id) ON DELETE CASCADE,
    path        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('portrait', 'clip')),
    mime        TEXT NOT NULL,
    bytes       INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL,
    duration_s  REAL,
    rotation    INTEGER NOT NULL
  );
  CREATE TABLE versions (
    identity_id     TEXT NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    version         INTEGER NOT NULL,
    dir             TEXT NOT NULL UNIQUE,
    manifest_json   TEXT NOT NULL,
    gates_passed    INTEGER NOT NULL,
    job_id          TEXT,
    created_at      TEXT NOT NULL,
    override_reason TEXT,
    PRIMARY KEY (identity_id, version)
  );
  CREATE TABLE publications (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    identity_id     TEXT NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    version         INTEGER NOT NULL,
    at              TEXT NOT NULL,
    actor           TEXT NOT NULL
  );
  CREATE TABLE jobs (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,
    identity_id   TEXT NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    state         TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    stage         TEXT,
    progress      REAL NOT NULL DEFAULT 0,
    eta_s         REAL,
    loss          REAL,
    preview       TEXT,
    error_code    TEXT,
    error_message TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    work_dir      TEXT NOT NULL,
    runner        TEXT,
    child_pid     INTEGER,
    child_start   TEXT,
    version       INTEGER,
    created_at    TEXT NOT NULL,
    started_at    TEXT,
    finished_at   TEXT,
    updated_at    TEXT NOT NULL
  );
  CREATE INDEX jobs_state ON jobs (state, seq);
  CREATE TABLE grants (
    identity_id TEXT NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    room_id     TEXT NOT NULL,
    participant TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (identity_id, room_id, participant)
  );
  CREATE TABLE audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    identity_id TEXT,
    detail      TEXT NOT NULL
  );
  CREATE INDEX audit_identity ON audit (identity_id, id);
  `,
  // 2: the step within the stage of the latest progress event (the job view shows "step 120 of 300").
  `
  ALTER TABLE jobs ADD COLUMN stage_step INTEGER;
  ALTER TABLE jobs ADD COLUMN stage_total INTEGER;
  `,
];
