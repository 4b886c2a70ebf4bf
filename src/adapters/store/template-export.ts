import { FaceLoginError } from '../../core/errors.js';
import type { NewTemplate, Pose, Template, TemplateExport, UserRecord } from '../../core/types.js';
import { POSES } from '../../protocol/constants.js';

/**
 * The export format: plaintext JSON with every embedding as numbers. Templates are sealed only
 * at rest in IndexedDB (IdbTemplateStore, template-seal.ts): the device key never leaves the
 * browser, so an export is readable anywhere and must be handled like the biometric data it is
 * (encrypt it yourself for transport or backup). importAll seals the templates again under the
 * importing device's key.
 */
export function toTemplateExport(users: readonly UserRecord[], templates: readonly Template[]): TemplateExport {
  return {
    format: 'face-login-templates',
    version: 1,
    exportedAt: Date.now(),
    users: users.map((u) => ({ ...u })),
    templates: templates.map((t) => ({
      userId: t.userId,
      modelId: t.modelId,
      size: t.size,
      embedding: Array.from(t.embedding),
      pose: t.pose,
      createdAt: t.createdAt,
    })),
  };
}

/** What every TemplateStore checks before saving: a user id and finite embeddings of one size (returned). */
export function checkNewTemplates(userId: string, templates: readonly NewTemplate[]): number {
  if (!userId) throw new FaceLoginError('invalid-input', 'A user id is required.');
  if (templates.length === 0) throw new FaceLoginError('invalid-input', 'At least one template is required.');
  const size = templates[0]!.embedding.length;
  for (const t of templates) {
    if (t.embedding.length !== size || !t.embedding.every(Number.isFinite)) {
      throw new FaceLoginError('invalid-input', 'Templates must be finite vectors of one size.');
    }
  }
  return size;
}

/** Validates an import before anything is written: a bad file changes nothing. */
export function checkTemplateExport(data: unknown): TemplateExport {
  const bad = (why: string) => new FaceLoginError('invalid-input', `Not a face-login template export: ${why}.`);
  if (!data || typeof data !== 'object') throw bad('not an object');
  const d = data as Partial<TemplateExport>;
  if (d.format !== 'face-login-templates' || d.version !== 1) throw bad('unknown format or version');
  if (!Array.isArray(d.users) || !Array.isArray(d.templates)) throw bad('users and templates must be arrays');
  const userIds = new Set<string>();
  for (const u of d.users) {
    if (!u || typeof u.userId !== 'string' || !u.userId || typeof u.createdAt !== 'number' || typeof u.updatedAt !== 'number') throw bad('a user row is malformed');
    userIds.add(u.userId);
  }
  for (const t of d.templates) {
    if (!t || typeof t.userId !== 'string' || !userIds.has(t.userId)) throw bad('a template belongs to no listed user');
    if (typeof t.modelId !== 'string' || !t.modelId) throw bad('a template has no model id');
    if (!Array.isArray(t.embedding) || t.embedding.length !== t.size || !t.embedding.every((x: unknown) => typeof x === 'number' && Number.isFinite(x))) {
      throw bad('a template embedding is malformed');
    }
    if (!(POSES as readonly Pose[]).includes(t.pose)) throw bad(`unknown pose "${String(t.pose)}"`);
  }
  return d as TemplateExport;
}
