// @ts-check
/**
 * A converter result (tflite-to-tfjs.mjs) loaded straight into TF.js from memory, for the Node
 * parity checks (check-mobilefacenet.mjs, bench/liveness/check-conversion.mjs).
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';

/** @param {{ modelJson: any, weightData: Uint8Array }} conv */
export function loadConverted(conv) {
  const m = conv.modelJson;
  const wd = conv.weightData;
  return loadGraphModel(
    tf.io.fromMemory({
      modelTopology: m.modelTopology,
      weightSpecs: m.weightsManifest[0].weights,
      weightData: wd.buffer.slice(wd.byteOffset, wd.byteOffset + wd.byteLength),
      format: m.format,
      generatedBy: m.generatedBy,
      convertedBy: m.convertedBy,
      signature: m.signature,
      userDefinedMetadata: m.userDefinedMetadata,
    }),
  );
}
