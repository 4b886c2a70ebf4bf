/**
 * Storage faults as typed errors, and a store that never blocks the event loop on a lock.
 *
 * Every driver error that says the database cannot do the work now becomes a StorageFault with one
 * of three kinds, which the error handler answers as a typed 503 (src/protocol/errors.ts):
 * - `busy`: locked by another writer (SQLITE_BUSY / LOCKED; PostgreSQL lock timeouts,
 *   serialization failures, no free connection): retry in a moment;
 * - `full`: no space left (SQLITE_FULL; PostgreSQL 53100 disk_full);
 * - `unavailable`: the database cannot be written or reached (read-only file or transaction, I/O
 *   error, cannot open, connection refused or lost, shutting down).
 *
 * SQLite through better-sqlite3 is synchronous: with a busy_timeout, a write waiting for another
 * process's lock would freeze the whole server (health included) for that long. The store runs with
 * busy_timeout 0 instead and `withStorageFaults` retries a busy method asynchronously (short,
 * growing sleeps on timers, up to `busyWaitMs`), so the event loop keeps serving while it waits.
 * Retrying a whole method is safe because each SQLite store method is one transaction or one read
 * (server/store/types.ts): a busy one has changed nothing. PostgreSQL methods are never retried here
 * (some take two statements; the pool's own waits are asynchronous already).
 */
import type { Store } from './types.js';

export type StorageFaultKind = 'busy' | 'full' | 'unavailable';

export class StorageFault extends Error {
  override readonly name = 'StorageFault';

  constructor(
    readonly kind: StorageFaultKind,
    readonly driverCode: string,
    options: { cause: unknown },
  ) {
    super(`storage ${kind} (${driverCode})`, options);
  }
}

const NODE_UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EPIPE', 'EAI_AGAIN']);

/** The fault a driver error stands for; null when it is not a storage fault (a bug, a constraint). */
export function classifyStorageError(e: unknown): { kind: StorageFaultKind; code: string } | null {
  if (e instanceof StorageFault) return { kind: e.kind, code: e.driverCode };
  if (typeof e !== 'object' || e === null) return null;
  const code = (e as { code?: unknown }).code;
  const message = (e as { message?: unknown }).message;
  if (typeof code === 'string') {
    // better-sqlite3: SqliteError.code is the extended result code's name.
    if (/^SQLITE_(BUSY|LOCKED)/.test(code)) return { kind: 'busy', code };
    if (code === 'SQLITE_FULL') return { kind: 'full', code };
    if (/^SQLITE_(READONLY|IOERR|CANTOPEN|CORRUPT|NOTADB|PERM)/.test(code)) return { kind: 'unavailable', code };
    // PostgreSQL SQLSTATEs.
    if (code === '53100') return { kind: 'full', code };
    if (code === '55P03' || code === '40001' || code === '40P01' || code === '53300' || code === '57014') return { kind: 'busy', code };
    if (code === '25006' || code === '53200' || /^(08|57P)/.test(code)) return { kind: 'unavailable', code };
    if (NODE_UNREACHABLE.has(code)) return { kind: 'unavailable', code };
  }
  // pg-pool: every connection is taken for longer than connectionTimeoutMillis.
  if (typeof message === 'string' && /timeout exceeded when trying to connect/i.test(message)) return { kind: 'busy', code: 'pool-timeout' };
  if (typeof message === 'string' && /Connection terminated/i.test(message)) return { kind: 'unavailable', code: 'connection-terminated' };
  return null;
}

export interface StorageFaultOptions {
  /** How long a busy SQLite method is retried before it is a `busy` fault (ms). */
  readonly busyWaitMs: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The store with every method's driver faults typed (StorageFault), and SQLite's busy methods
 * retried on timers (see above). `close` and `migrate` pass through unchanged.
 */
export function withStorageFaults<S extends Store>(store: S, options: StorageFaultOptions): S {
  const retryBusy = store.kind === 'sqlite';
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || prop === 'constructor' || prop === 'close') return value;
      let w = wrapped.get(prop);
      if (!w) {
        const fn = value as (...args: unknown[]) => unknown;
        const settle = async (first: Promise<unknown>, args: unknown[]): Promise<unknown> => {
          const deadline = Date.now() + options.busyWaitMs;
          let attempt = first;
          for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
            try {
              return await attempt;
            } catch (e) {
              const fault = classifyStorageError(e);
              if (!fault) throw e;
              if (fault.kind === 'busy' && retryBusy && Date.now() + delay < deadline) {
                await sleep(delay);
                attempt = Promise.resolve().then(() => fn.apply(target, args));
                continue;
              }
              throw e instanceof StorageFault ? e : new StorageFault(fault.kind, fault.code, { cause: e });
            }
          }
        };
        // Only the methods that answer a promise (the Store interface) are wrapped; anything synchronous passes through.
        w = (...args: unknown[]) => {
          const out = fn.apply(target, args);
          return out instanceof Promise ? settle(out, args) : out;
        };
        wrapped.set(prop, w);
      }
      return w;
    },
  });
}
