import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** Builds (or checks against model.lock.json) the NOT SHIPPED model liveness.spec.ts loads; fails the run if it cannot. */
export default function globalSetup(): void {
  const root = resolve(import.meta.dirname, '../..');
  if (!existsSync(resolve(root, 'public/models/manifest.json'))) throw new Error('public/models/manifest.json is missing: run "npm run models" first.');
  execFileSync(process.execPath, [resolve(import.meta.dirname, 'prepare-model.mjs'), '--quiet'], { cwd: root, stdio: 'inherit' });
}
