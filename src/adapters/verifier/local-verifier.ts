import { calibrationFor, identifyThreshold } from '../../core/calibration.js';
import { applyTemplateChange, isTemplateChangeSource, PackedGallery, type TemplateChangeEvent } from '../../core/gallery.js';
import { decideVerify } from '../../core/match.js';
import type { IdentifyResult, TemplateStore, Verifier, VerifyResult } from '../../core/types.js';

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
  /**
   * The 1:N gallery of one model (packed: src/core/gallery.ts), with the store revision it holds.
   * Read from the store once; the store's own writes (enrol, re-enrol, delete) then update it in
   * place when the store reports them (TemplateChangeSource); any other change of the revision
   * (another tab, an import) makes the next identify read the store again.
   */
  private gallery: { modelId: string; revision: string; packed: PackedGallery } | null = null;
  private unsubscribe: (() => void) | null = null;

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

  /** The store's write `e`, applied to the gallery when it held the revision just before it; else the gallery is left to be read again. */
  private follow(e: TemplateChangeEvent): void {
    const g = this.gallery;
    if (!g || g.revision !== e.before) return;
    try {
      applyTemplateChange(g.packed, g.modelId, e.change);
      g.revision = e.after;
    } catch {
      this.gallery = null; // e.g. a template of another size: read again (and fail there, as the scan would)
    }
  }

  /** The gallery of `modelId`, from memory unless the store changed in a way it did not follow. */
  private async galleryOf(modelId: string): Promise<PackedGallery> {
    if (!this.store.revision) return PackedGallery.from(await this.store.allTemplates(modelId));
    if (!this.unsubscribe && isTemplateChangeSource(this.store)) this.unsubscribe = this.store.onTemplateChange((e) => this.follow(e));
    const revision = await this.store.revision();
    const g = this.gallery;
    if (g && g.modelId === modelId && g.revision === revision) return g.packed;
    const packed = PackedGallery.from(await this.store.allTemplates(modelId));
    // Only keep it if nothing was written while reading (else the next call reads again).
    if ((await this.store.revision()) === revision) this.gallery = { modelId, revision, packed };
    return packed;
  }

  async identify(probe: Float32Array, modelId: string): Promise<IdentifyResult> {
    const gallery = await this.galleryOf(modelId);
    const floor = this.threshold();
    // N templates give a stranger N chances: the threshold rises with the gallery (open set).
    // A model without a measured impostor tail (a custom embedder) is identified at the floor.
    const tail = calibrationFor(modelId)?.tail;
    const t = this.identifyFpir === null || !tail ? floor : identifyThreshold(gallery.size, { fpir: this.identifyFpir, floor, tail });
    // decideIdentify()'s decision and score on the same templates (tests/unit/gallery.test.ts).
    const d = gallery.identify(probe, { threshold: t });
    return { userId: d.userId, score: d.score, threshold: d.threshold, decidedBy: 'device' };
  }

  /** Stops following the store and drops the gallery. Idempotent. */
  dispose(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.gallery = null;
  }
}
