/**
 * What the consumer tests (e2e/consumer/*.e2e.ts) share: the packed tarball (packed once per
 * test process; FACE_LOGIN_CONSUMER_TARBALL=<path> reuses one), npm/npx in a fresh folder, a
 * plain static server, the element's recorded events, and the README's "Install in your app" code
 * blocks, which the tests write into their apps and run as they are (readmeSnippets).
 */
import { expect, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');

export const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' } });

/** Like `run`, for a command expected to fail in some cases (a type checker): its exit as ok, its output either way. */
export function tryRun(cmd: string, args: string[], cwd: string): { ok: boolean; out: string } {
  try {
    return { ok: true, out: run(cmd, args, cwd) };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return { ok: false, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

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

/** Records the element's (bubbling, composed) events on the document, from before the page's own scripts run. */
export async function recordEvents(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const events: { type: string; detail: unknown }[] = [];
    (window as unknown as { faceLoginEvents: unknown[] }).faceLoginEvents = events;
    for (const type of ['ready', 'enrolled', 'verified', 'rejected', 'error']) {
      document.addEventListener(`face-login-${type}`, (e) => events.push({ type, detail: (e as CustomEvent).detail }), true);
    }
  });
}

export type Snippet = { target: string; lang: string; body: string };

/**
 * The code blocks of the README's "Install in your app" section that an app follows: each fenced
 * block right after a line `<!-- consumer: <apps> <target> -->`, where <apps> is a comma-separated
 * list of app names and <target> is either a path in the app (the block is that file, verbatim) or
 * `run` (a shell block: each line a command run in the app's folder). Throws when the app has no
 * block, so a marker removed from the README fails the test rather than skipping a step.
 */
export function readmeSnippets(app: string): Snippet[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Install in your app\n');
  expect(start, 'README.md has an "Install in your app" section').toBeGreaterThan(0);
  const next = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, next < 0 ? undefined : next);
  const found: Snippet[] = [];
  for (const m of section.matchAll(/^<!-- consumer: (\S+) (\S+) -->\n```(\w*)\n([^]*?)^```$/gm)) {
    if (m[1]!.split(',').includes(app)) found.push({ target: m[2]!, lang: m[3]!, body: m[4]! });
  }
  // A marker not followed at once by a fenced block would be ignored silently: refuse it.
  const markers = [...section.matchAll(/^<!-- consumer: (\S+) (\S+) -->$/gm)].filter((m) => m[1]!.split(',').includes(app));
  expect(found.length, `every "<!-- consumer: ${app} ... -->" marker is followed by a fenced block`).toBe(markers.length);
  expect(found.length, `README.md's "Install in your app" has blocks marked for ${app}`).toBeGreaterThan(0);
  return found;
}

/** The README's blocks for `app` whose target is a file: written into `dir` as they are. Returns their targets. */
export function writeReadmeFiles(app: string, dir: string): string[] {
  const files = readmeSnippets(app).filter((s) => s.target !== 'run');
  for (const { target, body } of files) {
    const path = join(dir, target);
    expect(path.startsWith(dir + '/'), target).toBe(true);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, body);
  }
  return files.map((s) => s.target);
}

/**
 * Runs the README's `run` blocks for `app` in `dir`, line by line (a `# comment` after a command is
 * dropped). Only npm and npx commands; `npm install face-login …` installs the packed tarball in
 * place of the registry's face-login (installTarball), with `alsoInstall` added to that line.
 * Returns each command with its output.
 */
export function runReadmeCommands(app: string, dir: string, alsoInstall: string[] = []): { line: string; output: string }[] {
  const lines = readmeSnippets(app)
    .filter((s) => s.target === 'run')
    .flatMap((s) => s.body.split('\n'))
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l && !l.startsWith('#'));
  expect(lines.length, `README.md has commands for ${app}`).toBeGreaterThan(0);
  let installedUs = false;
  const done: { line: string; output: string }[] = [];
  for (const line of lines) {
    expect(line, 'a README command is a plain npm/npx command (no quotes, pipes or shell syntax)').toMatch(/^(?:npm|npx) [\w@./:=^~-]+(?: [\w@./:=^~-]+)*$/);
    const [cmd, ...args] = line.split(' ') as [string, ...string[]];
    if (cmd === 'npm' && (args[0] === 'install' || args[0] === 'i') && args.includes('face-login')) {
      done.push({ line, output: installTarball(dir, ...args.slice(1).filter((a) => a !== 'face-login'), ...alsoInstall) });
      installedUs = true;
    } else if (cmd === 'npm' && (args[0] === 'install' || args[0] === 'i')) {
      done.push({ line, output: run('npm', ['install', '--prefer-offline', ...args.slice(1)], dir) });
    } else {
      done.push({ line, output: run(cmd, args, dir) });
    }
  }
  expect(installedUs, `the README's commands for ${app} install face-login`).toBe(true);
  return done;
}
