import * as tf from '@tensorflow/tfjs-core';
import { GraphModel, loadGraphModel } from '@tensorflow/tfjs-converter';
import { FaceLoginError } from '../../core/errors.js';
import { fetchModelFile, joinUrl, manifestEntry, type FetchModelOptions, type ModelManifest } from './model-files.js';

export interface GraphModelLoadOptions {
  signal?: AbortSignal | undefined;
  onProgress?: FetchModelOptions['onProgress'] | undefined;
}

/**
 * Loads `<modelsUrl>/<dir>/model.json` and its weight shards, each checked against the
 * manifest's SHA-256, into a TF.js GraphModel on the active backend. `what` names the model in
 * errors ("The embedding model could not be loaded: ..."), all of them model-load-failed.
 */
export async function loadManifestGraphModel(
  modelsUrl: string,
  dir: string,
  manifest: ModelManifest,
  what: string,
  options: GraphModelLoadOptions = {},
): Promise<GraphModel> {
  const { signal, onProgress } = options;
  const base = joinUrl(modelsUrl, dir);
  const jsonEntry = manifestEntry(manifest, `${dir}/model.json`);
  const jsonBytes = await fetchModelFile(joinUrl(base, 'model.json'), { sha256: jsonEntry.sha256, signal });
  let modelJson: { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[]; format?: string; generatedBy?: string; convertedBy?: string };
  try {
    modelJson = JSON.parse(new TextDecoder().decode(jsonBytes));
  } catch (e) {
    throw new FaceLoginError('model-load-failed', `The ${what} model description (model.json) is not valid JSON.`, { cause: e });
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  const shards: Uint8Array[] = [];
  for (const group of modelJson.weightsManifest ?? []) {
    specs.push(...group.weights);
    for (const path of group.paths) {
      const entry = manifestEntry(manifest, `${dir}/${path}`);
      shards.push(await fetchModelFile(joinUrl(base, path), { sha256: entry.sha256, expectedBytes: entry.bytes, signal, onProgress }));
    }
  }
  const weightData = new Uint8Array(shards.reduce((n, s) => n + s.byteLength, 0));
  let off = 0;
  for (const s of shards) {
    weightData.set(s, off);
    off += s.byteLength;
  }
  try {
    return await loadGraphModel(
      tf.io.fromMemory({
        modelTopology: modelJson.modelTopology,
        weightSpecs: specs,
        weightData: weightData.buffer,
        format: modelJson.format,
        generatedBy: modelJson.generatedBy,
        convertedBy: modelJson.convertedBy,
      }),
    );
  } catch (e) {
    throw new FaceLoginError('model-load-failed', `The ${what} model could not be loaded: ${(e as Error).message ?? e}`, { cause: e });
  }
}
