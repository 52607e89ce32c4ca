/**
 * The registry's SQLite file (better-sqlite3): WAL journal, foreign keys on, a busy timeout so a
 * second connection (another server in the same process, a CLI) waits instead of failing, and the
 * schema brought up to date from `MIGRATIONS` on open (`PRAGMA user_version` = migrations applied).
 */
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations';

export type Db = Database.Database;

export class RegistryDatabase {
  readonly db: Db;
  #closed = false;

  private constructor(db: Db) {
    this.db = db;
  }

  /** Opens (creating if needed) the file and applies pending migrations. Throws on a newer schema. */
  static open(file: string): RegistryDatabase {
    const db = new Database(file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      db.pragma('synchronous = NORMAL');
      migrate(db);
    } catch (error) {
      db.close();
      throw error;
    }
    return new RegistryDatabase(db);
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  /** Runs `fn` in one IMMEDIATE transaction (a writer lock from the start: no upgrade deadlocks). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.db.close();
  }
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`registry schema version ${current} is newer than this server knows (${MIGRATIONS.length})`);
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version] as string);
      db.pragma(`user_version = ${version + 1}`);
    }).immediate();
  }
}
