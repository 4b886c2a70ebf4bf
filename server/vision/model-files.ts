/**
 * The page's model files, read from disk: public/models/manifest.json (written by
 * scripts/prepare-models.mjs) and the files it lists, each checked against its size and SHA-256
 * before TF.js sees it, as the page's loader does over HTTP (src/adapters/models/graph-model.ts).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import type { ModelManifest } from '../../src/adapters/models/model-files.js';
import { BlazeFaceTfjsDetector, blazeFaceModelDir, type BlazeFaceTfjsOptions } from '../../src/adapters/detector/blazeface-tfjs.js';
import { VisionError, messageOf } from './errors.js';

/** public/models of this checkout. */
export const DEFAULT_MODELS_DIR = fileURLToPath(new URL('../../public/models/', import.meta.url));

function loadFailed(message: string, cause?: unknown): VisionError {
  return new VisionError('model-load-failed', message, cause === undefined ? undefined : { cause });
}

/** The manifest's model entries, keyed by their path inside the models folder (as on the page). */
export async function readModelManifest(modelsDir: string): Promise<ModelManifest> {
  const path = join(modelsDir, 'manifest.json');
  let json: { files?: unknown };
  try {
    json = JSON.parse(await readFile(path, 'utf8')) as { files?: unknown };
  } catch (e) {
    throw loadFailed(`The model manifest ${path} could not be read: ${messageOf(e)} (run "npm run models").`, e);
  }
  if (!Array.isArray(json?.files)) throw loadFailed(`The model manifest ${path} has no "files" list.`);
  const files: Record<string, { bytes: number; sha256: string }> = {};
  for (const f of json.files as { path?: unknown; bytes?: unknown; sha256?: unknown }[]) {
    if (typeof f?.path !== 'string' || typeof f.bytes !== 'number' || typeof f.sha256 !== 'string') throw loadFailed(`The model manifest ${path} has a malformed entry.`);
    if (f.path.startsWith('models/')) files[f.path.slice('models/'.length)] = { bytes: f.bytes, sha256: f.sha256 };
  }
  return { files };
}

/** One model file's bytes, refused (model-load-failed) unless size and SHA-256 match the manifest. */
export async function readModelFile(modelsDir: string, file: string, manifest: ModelManifest): Promise<Uint8Array> {
  const entry = manifest.files[file];
  if (!entry) throw loadFailed(`The model manifest does not list ${file}.`);
  const path = join(modelsDir, file);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw loadFailed(`Model file ${path} could not be read: ${messageOf(e)}`, e);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (bytes.byteLength !== entry.bytes || sha256 !== entry.sha256) {
    throw loadFailed(`Model file ${path} is corrupt: ${bytes.byteLength} bytes, SHA-256 ${sha256.slice(0, 12)}… (the manifest says ${entry.bytes} bytes, ${entry.sha256.slice(0, 12)}…).`);
  }
  return bytes;
}

/** `<modelsDir>/<dir>/model.json` and its weight shards, checked, as a TF.js GraphModel on the active backend. */
export async function loadCheckedGraphModel(modelsDir: string, dir: string, manifest: ModelManifest): Promise<GraphModel> {
  const jsonBytes = await readModelFile(modelsDir, `${dir}/model.json`, manifest);
  let model: { modelTopology?: object; weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[]; format?: string; generatedBy?: string; convertedBy?: string };
  try {
    model = JSON.parse(Buffer.from(jsonBytes).toString('utf8')) as typeof model;
  } catch (e) {
    throw loadFailed(`${dir}/model.json is not valid JSON.`, e);
  }
  const groups = model.weightsManifest ?? [];
  const shards = await Promise.all(groups.flatMap((g) => g.paths.map((p) => readModelFile(modelsDir, `${dir}/${p}`, manifest))));
  const weights = Buffer.concat(shards);
  try {
    return await loadGraphModel(
      tf.io.fromMemory({
        modelTopology: model.modelTopology,
        weightSpecs: groups.flatMap((g) => g.weights),
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
        format: model.format,
        generatedBy: model.generatedBy,
        convertedBy: model.convertedBy,
      }),
    );
  } catch (e) {
    throw loadFailed(`The model in ${dir} could not be loaded: ${messageOf(e)}`, e);
  }
}

/**
 * The TF.js BlazeFace detector on the graph in `<modelsDir>/blazeface` (`range: 'full'`:
 * `<modelsDir>/blazeface-full`), checked against the manifest. An unknown range is refused
 * (FaceLoginError invalid-input) before any file is read.
 */
export async function loadBlazeFaceDetector(
  modelsDir: string = DEFAULT_MODELS_DIR,
  options: Omit<BlazeFaceTfjsOptions, 'source' | 'signal'> = {},
): Promise<BlazeFaceTfjsDetector> {
  const dir = blazeFaceModelDir(options.range);
  const model = await loadCheckedGraphModel(modelsDir, dir, await readModelManifest(modelsDir));
  try {
    return await BlazeFaceTfjsDetector.create({ ...options, source: { model } });
  } catch (e) {
    model.dispose();
    throw e;
  }
}
