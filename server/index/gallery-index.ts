/**
 * The 1:N index. Two modes, chosen from the store at construction:
 *
 * - in the database (PostgreSQL with pgvector, `store.dbGallery()`): this process keeps no gallery;
 *   `search` asks the store (HNSW candidates re-ranked exactly, see PostgresStore.searchGallery), so
 *   every instance on the database sees every committed enrolment and deletion at once, and the
 *   server is stateless. `seq` still follows the change sequence (the enrolment's conflict check).
 * - in memory (SQLite, or PostgreSQL without pgvector): one ModelGallery per configured model,
 *   kept in sync with the database through the change feed (store/migrations.ts). Each instance remembers the last change sequence it
 * applied; before an identify or a duplicate check it compares that with the database's
 * sequence (read in the same round trip as the nonce for identify) and, when behind, re-reads
 * the current templates of only the users that changed. Several server processes on one
 * database therefore converge without talking to each other.
 */
import type { ModelTable } from '../config.js';
import type { GalleryRow, GallerySearchResult, Store } from '../store/types.js';
import { ModelGallery, type Match } from './gallery.js';

const PAGE = 5000;
/** Above this many changed users in one catch-up, reload everything instead. */
const RELOAD_OVER = 20_000;

export class GalleryIndex {
  private galleries = new Map<string, ModelGallery>();
  private appliedSeq = -1;
  private syncing: Promise<void> | null = null;
  /** 1:N answered by the database (no gallery in this process). */
  readonly inDatabase: boolean;

  constructor(
    private readonly store: Store,
    private readonly models: ModelTable,
  ) {
    this.inDatabase = (store.dbGallery?.() ?? null) !== null && typeof store.searchGallery === 'function';
  }

  /**
   * The best user for the probes and the model's template count (the open-set threshold's N), as of
   * the last sync (in memory) or now (database). `runnerUpAt`: also the best of the other users (the
   * ambiguity rule), when the best reaches `runnerUpAt(templates)` (the in-memory scan does that
   * second pass only then; the database's search has it anyway).
   */
  async search(
    modelId: string,
    probes: readonly Float32Array[],
    options: { excludeUser?: string; runnerUpAt?: (templates: number) => number } = {},
  ): Promise<GallerySearchResult> {
    if (this.inDatabase) {
      const found = await this.store.searchGallery!({ modelId, probes, ...(options.excludeUser !== undefined ? { excludeUser: options.excludeUser } : {}) });
      return options.runnerUpAt ? found : { ...found, runnerUp: null };
    }
    const g = this.galleries.get(modelId);
    const templates = g?.templates ?? 0;
    const best = g?.best(probes, options.excludeUser) ?? null;
    // (The in-memory scan skips one user: a runner-up with excludeUser is not asked for by any caller.)
    const wanted = options.runnerUpAt !== undefined && options.excludeUser === undefined && best !== null && best.score >= options.runnerUpAt(templates);
    return { best, runnerUp: wanted ? (g?.best(probes, best.userId) ?? null) : null, templates };
  }

  /** The last change sequence applied (-1 before the first load). */
  get seq(): number {
    return this.appliedSeq;
  }

  gallery(modelId: string): ModelGallery | undefined {
    return this.galleries.get(modelId);
  }

  stats(): Record<string, { users: number; templates: number }> {
    const out: Record<string, { users: number; templates: number }> = {};
    for (const [id, g] of this.galleries) out[id] = { users: g.users, templates: g.templates };
    return out;
  }

  /** Full (re)load: read the sequence first, then page through every template. */
  async load(): Promise<void> {
    const seq = await this.store.changeSeq();
    if (this.inDatabase) {
      this.appliedSeq = Math.max(this.appliedSeq, seq);
      return;
    }
    const next = new Map<string, ModelGallery>();
    for (const [id, spec] of Object.entries(this.models)) next.set(id, new ModelGallery(spec.size));
    const byUser = new Map<string, GalleryRow[]>();
    let after = 0;
    for (;;) {
      const page = await this.store.scanTemplates(after, PAGE);
      for (const row of page) {
        const list = byUser.get(row.userId);
        if (list) list.push(row);
        else byUser.set(row.userId, [row]);
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.id;
    }
    for (const [userId, rows] of byUser) applyUser(next, userId, rows, this.models);
    this.galleries = next;
    this.appliedSeq = seq;
  }

  /** Makes sure every change up to `target` (default: the database's current sequence) is applied. */
  async sync(target?: number): Promise<void> {
    if (target !== undefined && this.appliedSeq >= target) return;
    const want = target ?? (await this.store.changeSeq());
    if (this.inDatabase) {
      // Nothing to apply: the database's search sees every commit.
      this.appliedSeq = Math.max(this.appliedSeq, want);
      return;
    }
    while (this.appliedSeq < want) {
      const before = this.appliedSeq;
      if (!this.syncing) {
        this.syncing = this.catchUp().finally(() => {
          this.syncing = null;
        });
      }
      await this.syncing;
      // The feed had nothing up to `want` (it always should): reload rather than spin.
      if (this.appliedSeq === before && this.appliedSeq < want) await this.load();
    }
  }

  private async catchUp(): Promise<void> {
    if (this.appliedSeq < 0) return this.load();
    let changes = await this.store.changesSince(this.appliedSeq, RELOAD_OVER + 1);
    if (changes.length > RELOAD_OVER) return this.load();
    while (changes.length > 0) {
      const users = [...new Set(changes.map((c) => c.userId))];
      const rows = await this.store.templatesOfUsers(users);
      const byUser = new Map<string, GalleryRow[]>(users.map((u) => [u, []]));
      for (const r of rows) byUser.get(r.userId)!.push(r);
      for (const [userId, list] of byUser) applyUser(this.galleries, userId, list, this.models);
      this.appliedSeq = changes[changes.length - 1]!.seq;
      if (changes.length < PAGE) break;
      changes = await this.store.changesSince(this.appliedSeq, PAGE);
    }
  }

  /** Best user for the probe in `modelId`'s gallery (no threshold applied). */
  best(modelId: string, probes: readonly Float32Array[], excludeUser?: string): Match | null {
    return this.galleries.get(modelId)?.best(probes, excludeUser) ?? null;
  }
}

function applyUser(galleries: Map<string, ModelGallery>, userId: string, rows: readonly GalleryRow[], models: ModelTable): void {
  const byModel = new Map<string, Float32Array[]>();
  for (const r of rows) {
    // Templates of a model no longer configured (or configured with another size) are ignored.
    if (models[r.modelId]?.size !== r.embedding.length) continue;
    const list = byModel.get(r.modelId);
    if (list) list.push(r.embedding);
    else byModel.set(r.modelId, [r.embedding]);
  }
  for (const [modelId, g] of galleries) g.setUser(userId, byModel.get(modelId) ?? []);
}
