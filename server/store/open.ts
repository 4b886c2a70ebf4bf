import type { DbConfig } from '../config.js';
import type { Store } from './types.js';

/** Opens the configured store (each driver is imported only when used). */
export async function openStore(db: DbConfig): Promise<Store> {
  if (db.kind === 'sqlite') {
    const { SqliteStore } = await import('./sqlite.js');
    return new SqliteStore(db.path);
  }
  const { PostgresStore } = await import('./postgres.js');
  return new PostgresStore({ url: db.url, poolSize: db.poolSize, ...(db.schema ? { schema: db.schema } : {}) });
}
