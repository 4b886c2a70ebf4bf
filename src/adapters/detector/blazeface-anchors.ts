/**
 * The anchor grids of BlazeFace short and full range: where each of the model's predictions sits.
 * Pure math, no TF.js, no DOM.
 *
 * Method (the SSD anchor scheme MediaPipe configures for this model): 4 layers with strides
 * 8, 16, 16, 16 on a 128x128 input; each layer puts 2 anchors (aspect ratio 1, plus the
 * interpolated scale, also square) on every cell of its ceil(128 / stride) grid, and layers
 * that share a stride share a grid, so stride 8 gives 16x16 cells x 2 and the three stride-16
 * layers give 8x8 cells x 6: 512 + 384 = 896. An anchor's centre is its cell's centre; its
 * size is fixed at 1 (the model regresses absolute box sizes), so only centres are kept.
 *
 * Full range (MediaPipe's face_detection_full_range.pbtxt): 1 layer with stride 4 on a 192x192
 * input, interpolated_scale_aspect_ratio 0 (no second, interpolated anchor), so 1 anchor per cell
 * of a 48x48 grid: 2304, the row count of the model's outputs.
 */

export interface AnchorGrid {
  readonly inputSize: number;
  readonly strides: readonly number[];
  /** Anchors each layer puts on one cell. */
  readonly anchorsPerLayer: number;
}

export const BLAZEFACE_SHORT_RANGE_GRID: AnchorGrid = { inputSize: 128, strides: [8, 16, 16, 16], anchorsPerLayer: 2 };
export const BLAZEFACE_FULL_RANGE_GRID: AnchorGrid = { inputSize: 192, strides: [4], anchorsPerLayer: 1 };

/**
 * Anchor centres, normalised to [0, 1] of the model input, as [x0, y0, x1, y1, ...] in the
 * order of the model's output rows: grid by grid, row-major over cells, anchors of a cell together.
 */
export function anchorCentres(grid: AnchorGrid = BLAZEFACE_SHORT_RANGE_GRID): Float32Array {
  const out: number[] = [];
  const { strides, inputSize, anchorsPerLayer } = grid;
  for (let layer = 0; layer < strides.length; ) {
    const stride = strides[layer]!;
    let perCell = 0;
    while (layer < strides.length && strides[layer] === stride) {
      perCell += anchorsPerLayer;
      layer++;
    }
    const cells = Math.ceil(inputSize / stride);
    for (let y = 0; y < cells; y++) {
      for (let x = 0; x < cells; x++) {
        for (let k = 0; k < perCell; k++) out.push((x + 0.5) / cells, (y + 0.5) / cells);
      }
    }
  }
  return Float32Array.from(out);
}
