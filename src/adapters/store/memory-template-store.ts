import { FaceLoginError } from '../../core/errors.js';
import { TemplateChangeListeners, type TemplateChangeEvent, type TemplateChangeSource } from '../../core/gallery.js';
import type { NewTemplate, Template, TemplateExport, TemplateStore, UserRecord } from '../../core/types.js';
import { checkNewTemplates, checkTemplateExport, toTemplateExport } from './template-export.js';

/** In-memory TemplateStore with the same contract as the IndexedDB one: for tests and ephemeral kiosks. */
export class MemoryTemplateStore implements TemplateStore, TemplateChangeSource {
  private users = new Map<string, UserRecord>();
  private templates: Template[] = [];
  private nextId = 1;
  private writes = 0;
  private outbox = new Map<string, { userId: string; modelId: string; queuedAt: number }>();
  private closed = false;
  private readonly listeners = new TemplateChangeListeners();

  private check(): void {
    if (this.closed) throw new FaceLoginError('disposed', 'The template store has been closed.');
  }

  async saveTemplates(
    userId: string,
    modelId: string,
    templates: readonly NewTemplate[],
    options: { replace?: boolean; displayName?: string } = {},
  ): Promise<Template[]> {
    this.check();
    const size = checkNewTemplates(userId, templates);
    const now = Date.now();
    const prev = this.users.get(userId);
    const displayName = options.displayName ?? prev?.displayName;
    this.users.set(userId, { userId, createdAt: prev?.createdAt ?? now, updatedAt: now, ...(displayName ? { displayName } : {}) });
    if (options.replace) this.templates = this.templates.filter((t) => !(t.userId === userId && t.modelId === modelId));
    const saved = templates.map((t) => ({
      id: this.nextId++,
      userId,
      modelId,
      size,
      embedding: new Float32Array(t.embedding),
      pose: t.pose,
      createdAt: now,
    }));
    const before = String(this.writes);
    this.templates.push(...saved);
    this.writes++;
    this.listeners.emit({ before, after: String(this.writes), change: { kind: 'save', userId, modelId, replace: !!options.replace, templates: saved } });
    return saved;
  }

  async templatesOf(userId: string, modelId: string): Promise<Template[]> {
    this.check();
    return this.templates.filter((t) => t.userId === userId && t.modelId === modelId);
  }

  async revision(): Promise<string> {
    this.check();
    return String(this.writes);
  }

  async allTemplates(modelId: string): Promise<Template[]> {
    this.check();
    return this.templates.filter((t) => t.modelId === modelId);
  }

  /** Calls `listener` after each saveTemplates / deleteUser (LocalVerifier's gallery follows them). */
  onTemplateChange(listener: (e: TemplateChangeEvent) => void): () => void {
    return this.listeners.add(listener);
  }

  async listUsers(): Promise<UserRecord[]> {
    this.check();
    return [...this.users.values()];
  }

  async hasUser(userId: string): Promise<boolean> {
    this.check();
    return this.users.has(userId);
  }

  async deleteUser(userId: string): Promise<boolean> {
    this.check();
    const existed = this.users.delete(userId);
    this.outbox.delete(userId);
    const count = this.templates.length;
    const before = String(this.writes);
    this.templates = this.templates.filter((t) => t.userId !== userId);
    if (this.templates.length !== count) this.writes++;
    this.listeners.emit({ before, after: String(this.writes), change: { kind: 'delete', userId } });
    return existed;
  }

  async exportAll(): Promise<TemplateExport> {
    this.check();
    return toTemplateExport([...this.users.values()], this.templates);
  }

  async importAll(data: TemplateExport): Promise<{ users: number; templates: number }> {
    this.check();
    const checked = checkTemplateExport(data);
    for (const u of checked.users) this.users.set(u.userId, { ...u });
    for (const t of checked.templates) this.templates.push({ ...t, id: this.nextId++, embedding: new Float32Array(t.embedding) });
    this.writes++;
    return { users: checked.users.length, templates: checked.templates.length };
  }

  async enqueueBackup(userId: string, modelId: string): Promise<void> {
    this.check();
    this.outbox.set(userId, { userId, modelId, queuedAt: Date.now() });
  }

  async pendingBackups(): Promise<{ userId: string; modelId: string; queuedAt: number }[]> {
    this.check();
    return [...this.outbox.values()];
  }

  async backupDone(userId: string, queuedAt: number): Promise<void> {
    this.check();
    if (this.outbox.get(userId)?.queuedAt === queuedAt) this.outbox.delete(userId);
  }

  close(): void {
    this.closed = true;
    this.listeners.clear();
  }
}
