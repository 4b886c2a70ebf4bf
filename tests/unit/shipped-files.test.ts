import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { expect, it } from 'vitest';

/**
 * The passive-liveness experiment (FaceAntiSpoofing, bench/liveness/) was measured not to work
 * and does not ship: nothing the product serves or builds from may carry it, and product code
 * never imports the benchmarks or the build scripts.
 */
const root = resolve(import.meta.dirname, '../..');
const files = (dir: string): string[] =>
  existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => relative(root, join(e.parentPath, e.name))) : [];

it('nothing the product serves carries the experimental liveness model', () => {
  // public/ is what Vite serves and the demo build copies (models are built there by scripts/prepare-models.mjs).
  expect(files(join(root, 'public')).filter((p) => /antispoof/i.test(p))).toEqual([]);
  const manifestPath = join(root, 'public/models/manifest.json');
  if (existsSync(manifestPath)) {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    expect(manifest).not.toHaveProperty('liveness');
    expect(manifest).not.toHaveProperty('experimental');
    expect(manifest.files.map((f: { path: string }) => f.path).filter((p: string) => /antispoof/i.test(p))).toEqual([]);
  }
  // What prepare-models builds is what its lock lists.
  const lock = readFileSync(join(root, 'scripts/models.lock.json'), 'utf8');
  expect(lock).not.toMatch(/antispoof|experimental/i);
});

it('product code imports neither bench/ nor scripts/', () => {
  const offenders = files(join(root, 'src'))
    .filter((p) => /\.ts$/.test(p))
    .filter((p) => /from\s+['"](\.\.\/)+(bench|scripts)\//.test(readFileSync(join(root, p), 'utf8')));
  expect(offenders).toEqual([]);
});
