/**
 * The PostgreSQL schema, as an append-only list of migrations. Never edit a released migration: add the
 * next one and raise SCHEMA_VERSION. Times are milliseconds since the epoch (BIGINT), as in the SQLite
 * store, so both stores hand the cores the same numbers.
 */
export interface Migration {
  version: number;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
CREATE TABLE ca_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE join_tokens (
  hash       TEXT PRIMARY KEY,
  spiffe_id  TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at    BIGINT,
  serial     TEXT
);
CREATE TABLE issued (
  serial        TEXT PRIMARY KEY,
  spiffe_id     TEXT NOT NULL,
  kind          TEXT NOT NULL,
  not_before    BIGINT NOT NULL,
  not_after     BIGINT NOT NULL,
  issued_at     BIGINT NOT NULL,
  revoked_at    BIGINT,
  revoke_reason TEXT
);
CREATE INDEX issued_by_id ON issued (spiffe_id, issued_at);
CREATE TABLE banned_identities (spiffe_id TEXT PRIMARY KEY, reason TEXT NOT NULL, banned_at BIGINT NOT NULL);
CREATE TABLE revocation_log (
  seq       BIGSERIAL PRIMARY KEY,
  kind      TEXT NOT NULL CHECK (kind IN ('serial', 'identity', 'unrevoke_identity')),
  spiffe_id TEXT NOT NULL,
  serial    TEXT,
  not_after BIGINT,
  at        BIGINT NOT NULL
);
CREATE TABLE settings (
  section    TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  version    INTEGER NOT NULL,
  updated_at BIGINT NOT NULL,
  updated_by TEXT NOT NULL
);
CREATE TABLE delegation_keys (
  kid        TEXT PRIMARY KEY,
  sealed     TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  retired_at BIGINT
);
`,
  },
  {
    // every process of the fleet hears at once what it must not wait a poll for (database/change-feed.ts)
    version: 2,
    sql: `
CREATE FUNCTION tollgate_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('tollgate_changes', TG_TABLE_NAME);
  RETURN NULL;
END $$;
CREATE TRIGGER revocation_log_changed AFTER INSERT OR UPDATE OR DELETE ON revocation_log FOR EACH STATEMENT EXECUTE FUNCTION tollgate_notify_change();
CREATE TRIGGER settings_changed AFTER INSERT OR UPDATE OR DELETE ON settings FOR EACH STATEMENT EXECUTE FUNCTION tollgate_notify_change();
CREATE TRIGGER delegation_keys_changed AFTER INSERT OR UPDATE OR DELETE ON delegation_keys FOR EACH STATEMENT EXECUTE FUNCTION tollgate_notify_change();
`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
