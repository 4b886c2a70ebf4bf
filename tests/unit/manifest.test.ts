import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

it('custom-elements.json is generated from the element\'s JSDoc and committed up to date', () => {
  const out = mkdtempSync(join(tmpdir(), 'cem-'));
  // The analyzer resolves --outdir against the working directory, even an absolute one.
  try {
    execFileSync(join(root, 'node_modules/.bin/cem'), ['analyze', '--config', 'custom-elements-manifest.config.mjs', '--outdir', relative(root, out)], { cwd: root, stdio: 'pipe' });
    const fresh = JSON.parse(readFileSync(join(out, 'custom-elements.json'), 'utf8'));
    const committed = JSON.parse(readFileSync(join(root, 'custom-elements.json'), 'utf8'));
    expect(committed, 'run "npm run manifest" and commit custom-elements.json').toEqual(fresh);
    const el = committed.modules.flatMap((m: { declarations?: unknown[] }) => m.declarations ?? []).find((d: { tagName?: string }) => d.tagName === 'face-login');
    expect(el.events.map((e: { name: string }) => e.name)).toEqual(expect.arrayContaining(['face-login-verified', 'face-login-rejected', 'face-login-error']));
    // IDEs find the manifest through package.json, and running the analyzer must not repoint it.
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).customElements).toBe('custom-elements.json');
    expect(el.cssParts.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['preview', 'status', 'hint']));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 30_000);
