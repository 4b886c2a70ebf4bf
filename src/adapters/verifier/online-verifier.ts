import { isFaceLoginError } from '../../core/errors.js';
import type { IdentifyResult, NewTemplate, TemplateStore, Verifier, VerifyResult } from '../../core/types.js';
import { MAX_BACKUP_TEMPLATES, MAX_ENROLL_TEMPLATES } from '../../protocol/constants.js';
import type { ServerErrorCode } from '../../protocol/errors.js';
import { ServerRefusal, type HttpVerifier } from './http-verifier.js';
import { LocalVerifier } from './local-verifier.js';

/**
 * What became of one enrolment made offline, once the server answered:
 * - `enrolled`: the user was not enrolled on the server; the device's templates were enrolled
 *   there (same route and checks as an online enrolment) and backed up. The server now decides.
 * - `backed-up`: the user was already enrolled on the server (e.g. on another device): its
 *   templates were left as they are, and the device's were stored as a backup only.
 * - `refused`: the server refused (duplicate-enrollment: the face is another user's;
 *   proof-required: the id belongs to another face, or enrolment is closed; ...). `error` says
 *   why. The item leaves the queue (it is not retried) and the device keeps its templates.
 *   (`enrolled` with an `error`: the enrolment went through and only its backup was refused.)
 * Still unreachable, rate limited, or an answer that is not the server's: nothing is reported,
 * the item stays queued for the next flush (on `online`, after each server decision, next load).
 */
export interface BackupEvent {
  userId: string;
  modelId: string;
  ok: boolean;
  outcome: 'enrolled' | 'backed-up' | 'refused';
  error?: unknown;
}

/** Server answers after which a queued item is tried again later rather than given up. */
const RETRY_LATER: ReadonlySet<string> = new Set<ServerErrorCode>(['rate-limited', 'locked-out', 'invalid-nonce']);

export interface OnlineVerifierOptions {
  /** When the server cannot be reached, decide on the device instead of failing. Default false. */
  allowOffline?: boolean;
  /** Called for each queued offline enrolment the server answered (see BackupEvent); not while it stays unreachable. */
  onBackup?: (e: BackupEvent) => void;
  /** Open-set identify on the device (offline path): see LocalVerifierOptions.identifyFpir. */
  identifyFpir?: number | null;
}

/**
 * Server-side verification with an offline path. The server decides whenever it can be
 * reached. When it cannot (backend-unavailable) and the page allows it, the device decides
 * against its own templates, and enrolments made offline are queued (in IndexedDB). When the
 * connection returns, each queued user is enrolled on the server if it does not know them yet
 * (so they can then log in through it), or else only backed up (see BackupEvent). Any other
 * server answer (reject, locked-out, duplicate-enrollment) is final: it is never retried locally.
 */
export class OnlineVerifier implements Verifier {
  readonly kind = 'remote' as const;
  private readonly local: LocalVerifier;
  private flushing: Promise<void> | null = null;
  private readonly onOnline = () => void this.flushBackups();

  constructor(
    private readonly remote: HttpVerifier,
    private readonly store: TemplateStore,
    threshold: () => number,
    private readonly options: OnlineVerifierOptions = {},
  ) {
    this.local = new LocalVerifier(store, threshold, { identifyFpir: options.identifyFpir });
    globalThis.addEventListener?.('online', this.onOnline);
    void this.flushBackups();
  }

  private offline(e: unknown): boolean {
    // The server cannot decide now (unreachable, or its database cannot write): the device may. Overloaded is a wait, not a fallback.
    return !!this.options.allowOffline && isFaceLoginError(e) && (e.code === 'backend-unavailable' || e.code === 'backend-storage');
  }

  async verify(userId: string, probe: Float32Array, modelId: string): Promise<VerifyResult> {
    try {
      const r = await this.remote.verify(userId, probe, modelId);
      void this.flushBackups();
      return r;
    } catch (e) {
      if (!this.offline(e)) throw e;
      return this.local.verify(userId, probe, modelId);
    }
  }

  async identify(probe: Float32Array, modelId: string): Promise<IdentifyResult> {
    try {
      const r = await this.remote.identify(probe, modelId);
      void this.flushBackups();
      return r;
    } catch (e) {
      if (!this.offline(e)) throw e;
      return this.local.identify(probe, modelId);
    }
  }

  async enroll(userId: string, modelId: string, templates: readonly NewTemplate[], options: { replace: boolean }): Promise<void> {
    try {
      await this.remote.enroll(userId, modelId, templates, options);
    } catch (e) {
      if (!this.offline(e)) throw e;
      await this.store.enqueueBackup(userId, modelId);
    }
  }

  /**
   * Sends every queued offline enrolment; stops at the first "still offline" (or rate limit).
   * Safe to call any time. Per user: enroll with `ifNotEnrolled` (nonce, duplicate-face check,
   * model id: everything an online enrolment goes through; never replaces an enrolment made
   * elsewhere), then back up. A final refusal is reported and dequeued; local templates stay.
   */
  flushBackups(): Promise<void> {
    this.flushing ??= (async () => {
      try {
        for (const item of await this.store.pendingBackups()) {
          const { userId, modelId } = item;
          const templates = await this.store.templatesOf(userId, modelId);
          let enrolled = false;
          try {
            if (templates.length > 0) {
              const newest = [...templates].sort((a, b) => b.createdAt - a.createdAt);
              try {
                await this.remote.enroll(userId, modelId, newest.slice(0, MAX_ENROLL_TEMPLATES), { replace: false, ifNotEnrolled: true });
                enrolled = true;
              } catch (e) {
                if (!(e instanceof ServerRefusal && e.serverCode === ('already-enrolled' satisfies ServerErrorCode))) throw e;
              }
              await this.remote.backup(userId, modelId, newest.slice(0, MAX_BACKUP_TEMPLATES));
            }
            await this.store.backupDone(userId, item.queuedAt);
            this.options.onBackup?.({ userId, modelId, ok: true, outcome: enrolled ? 'enrolled' : 'backed-up' });
          } catch (e) {
            if (isFaceLoginError(e) && (e.code === 'backend-unavailable' || e.code === 'backend-overloaded' || e.code === 'backend-storage')) return;
            // A rate limit, or an answer that is not the server's own (a proxy's page): later.
            if (!(e instanceof ServerRefusal) || RETRY_LATER.has(e.serverCode)) return;
            await this.store.backupDone(userId, item.queuedAt);
            this.options.onBackup?.({ userId, modelId, ok: enrolled, outcome: enrolled ? 'enrolled' : 'refused', error: e });
          }
        }
      } catch {
        // Storage trouble: the queue stays as it is and is tried again next time.
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  dispose(): void {
    globalThis.removeEventListener?.('online', this.onOnline);
    this.local.dispose();
  }
}
