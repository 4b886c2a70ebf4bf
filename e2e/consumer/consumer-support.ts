/**
 * What the consumer tests (e2e/consumer/*.e2e.ts) share: the packed tarball (packed once per
 * test process; FACE_LOGIN_CONSUMER_TARBALL=<path> reuses one), npm/npx in a fresh folder, a
 * plain static server and the element's recorded events.
 */
import { expect, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');

export const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' } });

let packed: string | null = null;

/** The package as npm publishes it: prepack builds dist/ (build:lib) and assets/, and packs a package.json without scripts. */
export function packedTarball(): string {
  const given = process.env.FACE_LOGIN_CONSUMER_TARBALL;
  if (given) return given;
  if (packed && existsSync(packed)) return packed;
  const dir = mkdtempSync(join(tmpdir(), 'face-login-tarball-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  run('npm', ['pack', '--pack-destination', dir], ROOT);
  packed = join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz'))!);
  return packed;
}

/** Installs the tarball (and any other packages) into `app` as a site does, and checks nothing of ours ran. */
export function installTarball(app: string, ...others: string[]): string {
  const installed = run('npm', ['install', '--prefer-offline', packedTarball(), ...others], app);
  expect(installed).not.toMatch(/prepare-models|build-assets/);
  return installed;
}

/** A static server: no SPA fallback, a 404 is a 404. */
export function serveStatic(dir: string, port: number): Promise<Server> {
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm' };
  const s = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    const file = join(dir, path.endsWith('/') ? path + 'index.html' : path);
    if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  return new Promise((ok) => s.listen(port, '127.0.0.1', () => ok(s)));
}

export type Ev = { type: string; detail: Record<string, unknown> };

/** Waits for the first recorded event (window.faceLoginEvents) of one of `types`. */
export async function waitForEvent(page: Page, types: string[], timeout = 90_000): Promise<Ev> {
  await page.waitForFunction((ts) => (window as unknown as { faceLoginEvents: Ev[] }).faceLoginEvents.some((e) => ts.includes(e.type)), types, { timeout });
  return page.evaluate((ts) => (window as unknown as { faceLoginEvents: Ev[] }).faceLoginEvents.find((e) => ts.includes(e.type))!, types);
}
