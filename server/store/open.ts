import type { DbConfig } from '../config.js';
import { templateKeysFromEnv, type TemplateKeyring } from '../crypto/template-keys.js';
import { withStorageFaults } from './faults.js';
import type { Store } from './types.js';

const DEFAULT_BUSY_WAIT_MS = 3000;

/**
 * Opens the configured store (each driver is imported only when used). `keys`: the template KEKs
 * (config.templateKeys); default: what a server started with this process's environment would use
 * (FACE_LOGIN_TEMPLATE_KEYS, else the database's development key file), so tools and tests that
 * open a server's database read its templates.
 */
export async function openStore(db: DbConfig, keys?: TemplateKeyring | null): Promise<Store> {
  const templateKeys = keys === undefined ? templateKeysFromEnv(process.env.FACE_LOGIN_TEMPLATE_KEYS, db, process.env.NODE_ENV === 'production', []) : keys;
  // Driver faults become typed StorageFaults (503s); SQLite waits for locks on timers (server/store/faults.ts).
  if (db.kind === 'sqlite') {
    const { SqliteStore } = await import('./sqlite.js');
    const store = new SqliteStore(db.path, templateKeys);
    store.nonBlocking();
    return withStorageFaults(store, { busyWaitMs: db.busyWaitMs ?? DEFAULT_BUSY_WAIT_MS });
  }
  const { PostgresStore } = await import('./postgres.js');
  return withStorageFaults(
    new PostgresStore({
      url: db.url,
      poolSize: db.poolSize,
      keys: templateKeys,
      ...(db.schema ? { schema: db.schema } : {}),
      vectorIndex: db.vectorIndex ?? (process.env.FACE_LOGIN_REQUIRE_PGVECTOR === '1' ? 'require' : 'auto'),
      ...(db.vectorCandidates ? { vectorCandidates: db.vectorCandidates } : {}),
      ...(db.vectorEfSearch ? { vectorEfSearch: db.vectorEfSearch } : {}),
    }),
    { busyWaitMs: 0 },
  );
}
