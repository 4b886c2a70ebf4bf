import { decideIdentify, decideVerify } from '../../core/match.js';
import type { IdentifyResult, TemplateStore, Verifier, VerifyResult } from '../../core/types.js';

/** Decides on the device against the TemplateStore (offline mode). */
export class LocalVerifier implements Verifier {
  readonly kind = 'local' as const;

  constructor(
    private readonly store: TemplateStore,
    private readonly threshold: () => number,
  ) {}

  async verify(userId: string, probe: Float32Array, modelId: string): Promise<VerifyResult> {
    const templates = await this.store.templatesOf(userId, modelId);
    return { ...decideVerify(probe, userId, templates, this.threshold()), decidedBy: 'device' };
  }

  async identify(probe: Float32Array, modelId: string): Promise<IdentifyResult> {
    const d = decideIdentify(probe, await this.store.allTemplates(modelId), this.threshold());
    return { userId: d.userId, score: d.score, threshold: d.threshold, decidedBy: 'device' };
  }
}
