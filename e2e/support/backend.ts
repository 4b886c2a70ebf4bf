/**
 * The real verification server (server/server.ts) as a child process, the way scripts/start.mjs
 * and server/test/durability.test.ts run it: `node --import tsx server/server.ts`, configured by
 * its environment, ready when it prints its "listening on" line. Stop and start it again on the
 * same SQLite file to take the backend down and bring it back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

export interface BackendOptions {
  port: number;
  sqlite: string;
  /** CORS origins (FACE_LOGIN_ORIGINS): the test page's origin. */
  origins: string[];
  /** The Ed25519 private key that signs assertions (FACE_LOGIN_SIGNING_KEY, a PKCS#8 PEM); default: a random one per start. */
  signingKey?: string;
  /** Who the assertions are for (FACE_LOGIN_AUDIENCE). */
  audience?: string;
  adminKey?: string;
  /**
   * Site keys (FACE_LOGIN_SITE_KEYS, each >= 32 characters): turns the session routes on, and with
   * them the server's own face examination (it loads public/models at start, a few seconds more).
   */
  siteKeys?: string[];
  /** Device routes (FACE_LOGIN_UNSAFE_TRUST_DEVICE_EMBEDDINGS=1): the page sends embeddings and the server trusts them. */
  trustDeviceEmbeddings?: boolean;
}

export class Backend {
  private child: ChildProcess | null = null;
  private log = '';
  readonly url: string;

  constructor(private readonly opts: BackendOptions) {
    this.url = `http://127.0.0.1:${opts.port}`;
  }

  get running(): boolean {
    return this.child !== null;
  }

  /** What the server printed (for failure messages). */
  get output(): string {
    return this.log;
  }

  async start(timeoutMs = 60_000): Promise<void> {
    if (this.child) return;
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/server.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: String(this.opts.port),
        FACE_LOGIN_SQLITE: this.opts.sqlite,
        FACE_LOGIN_ORIGINS: this.opts.origins.join(','),
        ...(this.opts.signingKey ? { FACE_LOGIN_SIGNING_KEY: this.opts.signingKey } : {}),
        ...(this.opts.audience ? { FACE_LOGIN_AUDIENCE: this.opts.audience } : {}),
        ...(this.opts.adminKey ? { FACE_LOGIN_ADMIN_KEY: this.opts.adminKey } : {}),
        ...(this.opts.siteKeys?.length ? { FACE_LOGIN_SITE_KEYS: this.opts.siteKeys.join(',') } : {}),
        ...(this.opts.trustDeviceEmbeddings ? { FACE_LOGIN_UNSAFE_TRUST_DEVICE_EMBEDDINGS: '1' } : {}),
        FACE_LOGIN_LOG_LEVEL: 'warn',
        DATABASE_URL: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`server did not start in ${timeoutMs} ms:\n${this.log}`)), timeoutMs);
      const onData = (b: Buffer) => {
        this.log += String(b);
        if (/listening on http/.test(this.log)) {
          clearTimeout(timer);
          ok();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (b: Buffer) => (this.log += String(b)));
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (this.child === child) this.child = null;
        fail(new Error(`server exited (${signal ?? code}) before listening:\n${this.log}`));
      });
    });
  }

  /** SIGTERM (graceful close), then waits for the process to exit: the port is closed afterwards. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
    child.kill('SIGTERM');
    const hard = setTimeout(() => child.kill('SIGKILL'), 12_000);
    await exited;
    clearTimeout(hard);
  }
}
