import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { CHROMIUM } from '../../playwright.config.js';

/** Fails early, with the fix, when something the suites need is missing. */
export default function globalSetup(): void {
  const root = resolve(import.meta.dirname, '../..');
  for (const f of ['public/models/manifest.json', 'public/models/mobilefacenet/model.json', 'public/models/face_detection_short_range.tflite']) {
    if (!existsSync(resolve(root, f))) throw new Error(`${f} is missing: run "npm run models" (npm install runs it too).`);
  }
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH).`);
}
