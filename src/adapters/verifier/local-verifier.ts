import { calibrationFor, identifyThreshold } from '../../core/calibration.js';
import { decideIdentify, decideVerify } from '../../core/match.js';
import type { IdentifyResult, Template, TemplateStore, Verifier, VerifyResult } from '../../core/types.js';

export interface LocalVerifierOptions {
  /**
   * Open-set identify: the false-positive identification rate to hold as the gallery grows
   * (identifyThreshold() of src/core/calibration.ts; default 1e-2). `null` = identify uses the
   * 1:1 threshold as it is, whatever the gallery size (not recommended beyond a few templates).
   * Applies to models with a calibration in MODEL_CALIBRATIONS; others identify at the 1:1 threshold.
   */
  identifyFpir?: number | null;
}

/** Decides on the device against the TemplateStore (offline mode). */
export class LocalVerifier implements Verifier {
  readonly kind = 'local' as const;
  private readonly identifyFpir: number | null;
  /** The 1:N gallery of one model, kept while the store's revision is unchanged. */
  private gallery: { modelId: string; revision: string; templates: Template[] } | null = null;

  constructor(
    private readonly store: TemplateStore,
    private readonly threshold: () => number,
    options: LocalVerifierOptions = {},
  ) {
    const fpir = options.identifyFpir === undefined ? 1e-2 : options.identifyFpir;
    if (fpir !== null && !(fpir > 0 && fpir < 1)) throw new RangeError(`identifyFpir must be in (0, 1) or null, got ${fpir}.`);
    this.identifyFpir = fpir;
  }

  async verify(userId: string, probe: Float32Array, modelId: string): Promise<VerifyResult> {
    const templates = await this.store.templatesOf(userId, modelId);
    return { ...decideVerify(probe, userId, templates, this.threshold()), decidedBy: 'device' };
  }

  /** All templates of `modelId`, from memory unless the store changed since they were read. */
  private async galleryOf(modelId: string): Promise<Template[]> {
    if (!this.store.revision) return this.store.allTemplates(modelId);
    const revision = await this.store.revision();
    const g = this.gallery;
    if (g && g.modelId === modelId && g.revision === revision) return g.templates;
    const templates = await this.store.allTemplates(modelId);
    // Only keep it if nothing was written while reading (else the next call reads again).
    if ((await this.store.revision()) === revision) this.gallery = { modelId, revision, templates };
    return templates;
  }

  async identify(probe: Float32Array, modelId: string): Promise<IdentifyResult> {
    const templates = await this.galleryOf(modelId);
    const floor = this.threshold();
    // N templates give a stranger N chances: the threshold rises with the gallery (open set).
    // A model without a measured impostor tail (a custom embedder) is identified at the floor.
    const tail = calibrationFor(modelId)?.tail;
    const t = this.identifyFpir === null || !tail ? floor : identifyThreshold(templates.length, { fpir: this.identifyFpir, floor, tail });
    const d = decideIdentify(probe, templates, t);
    return { userId: d.userId, score: d.score, threshold: d.threshold, decidedBy: 'device' };
  }
}
