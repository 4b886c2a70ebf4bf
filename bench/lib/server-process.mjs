/**
 * The real verification server (server/server.ts) as a child process for the load benchmarks:
 * `node --import tsx server/server.ts` with the given environment, ready when it prints its
 * "listening on" line (as scripts/start.mjs and e2e/support/backend.ts wait for it).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Starts the server; resolves with { child, url, startMs, output() } or rejects with its output if it exits first. */
export async function startServerProcess(env) {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/server.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise((resolve, reject) => {
    child.stdout.on('data', (b) => {
      out += b;
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.stderr.on('data', (b) => (out += b));
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${out.slice(-2000)}`)));
  });
  return { child, url, startMs: performance.now() - t0, output: () => out };
}
