import { isFaceLoginError } from '../../core/errors.js';
import type { IdentifyResult, NewTemplate, TemplateStore, Verifier, VerifyResult } from '../../core/types.js';
import type { HttpVerifier } from './http-verifier.js';
import { LocalVerifier } from './local-verifier.js';

export interface OnlineVerifierOptions {
  /** When the server cannot be reached, decide on the device instead of failing. Default false. */
  allowOffline?: boolean;
  /** Called when a queued backup was sent (or failed for a reason other than being offline). */
  onBackup?: (e: { userId: string; ok: boolean; error?: unknown }) => void;
  /** Open-set identify on the device (offline path): see LocalVerifierOptions.identifyFpir. */
  identifyFpir?: number | null;
}

/**
 * Server-side verification with an offline path. The server decides whenever it can be
 * reached. When it cannot (backend-unavailable) and the page allows it, the device decides
 * against its own templates, and enrolments made offline are queued (in IndexedDB) and backed up
 * to the server when the connection returns. Any other server answer (reject, locked-out,
 * duplicate-enrollment) is final: it is never retried locally.
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
    return !!this.options.allowOffline && isFaceLoginError(e) && e.code === 'backend-unavailable';
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

  /** Sends every queued backup; stops at the first "still offline". Safe to call any time. */
  flushBackups(): Promise<void> {
    this.flushing ??= (async () => {
      try {
        for (const item of await this.store.pendingBackups()) {
          const templates = await this.store.templatesOf(item.userId, item.modelId);
          try {
            if (templates.length > 0) await this.remote.backup(item.userId, item.modelId, templates);
            await this.store.backupDone(item.userId, item.queuedAt);
            this.options.onBackup?.({ userId: item.userId, ok: true });
          } catch (e) {
            if (isFaceLoginError(e) && e.code === 'backend-unavailable') return;
            this.options.onBackup?.({ userId: item.userId, ok: false, error: e });
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
  }
}
