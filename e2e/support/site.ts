/**
 * The site's backend in the session e2e tests: it opens sessions and reads their results,
 * server to server with its site key (the page never holds the key). Two ways to play it, one
 * interface, so a test switches with one line:
 *
 * - DemoSite: the demo's own site backend (demo/site-backend.ts, Vite middleware at the test
 *   page's origin, configured by playwright.config.ts: FACE_LOGIN_DEMO_BACKEND = SESSION_BACKEND,
 *   FACE_LOGIN_DEMO_SITE_KEY = DEMO_SITE_KEY), driven over HTTP like the browser would, with a
 *   cookie jar: sign in (enrolment needs it), open a session, read its result.
 * - DirectSite: the test process itself, calling the face-login server (POST /v1/sessions,
 *   GET /v1/sessions/:id/result with x-face-login-site-key).
 *
 * `challengeOf` reads what the server asks, as the page does (GET /v1/sessions/:id, no key): the
 * tests check that the page performed the server's challenge, in the server's order.
 */
export type SessionAction = 'enroll' | 'verify' | 'identify';
export type Challenge = { kind: 'poses'; poses: string[] } | { kind: 'turns'; order: ('left' | 'right')[] };

export interface SessionResult {
  action: SessionAction;
  userId: string | null;
  state: 'pending' | 'done' | 'refused' | 'expired';
  decision?: 'accept' | 'reject';
  liveness?: 'passed' | 'failed';
  refusal?: string;
  [k: string]: unknown;
}

export interface Site {
  /** The face-login server the sessions are opened on (the page's `server`). */
  readonly server: string;
  /** A session for one action: enroll (the signed-in `userId`), verify (a claimed `userId`), identify (nobody). */
  openSession(action: SessionAction, userId?: string): Promise<{ sessionId: string }>;
  /** What the server decided, as the site's backend reads it. */
  sessionResult(sessionId: string): Promise<SessionResult>;
}

async function json<T>(res: Response, what: string): Promise<T> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** The server's challenge for a session, read as the page reads it (no key). */
export async function challengeOf(server: string, sessionId: string): Promise<Challenge> {
  const info = await json<{ challenge: Challenge }>(await fetch(`${server}/v1/sessions/${encodeURIComponent(sessionId)}`), `GET session ${sessionId}`);
  return info.challenge;
}

/** The test process as the site's backend, straight to the face-login server. */
export class DirectSite implements Site {
  private nonce = 0;

  constructor(
    readonly server: string,
    private readonly siteKey: string,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.server}${path}`, {
      method,
      headers: { 'x-face-login-site-key': this.siteKey, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    return json<T>(res, `${method} ${path}`);
  }

  openSession(action: SessionAction, userId?: string): Promise<{ sessionId: string }> {
    return this.call('POST', '/v1/sessions', { action, ...(userId !== undefined ? { userId } : {}), siteNonce: `e2e-site-nonce-${++this.nonce}` });
  }

  sessionResult(sessionId: string): Promise<SessionResult> {
    return this.call('GET', `/v1/sessions/${encodeURIComponent(sessionId)}/result`);
  }
}

/** The demo's site backend (/demo-site/ at the test page's origin), as one browser uses it: its cookies kept here. */
export class DemoSite implements Site {
  private readonly cookies = new Map<string, string>();
  private signedIn: string | null = null;
  server = '';

  constructor(private readonly origin: string) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.origin}/demo-site/${path}`, {
      method,
      headers: {
        ...(this.cookies.size ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(/;\s*/);
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (!value || attrs.some((a) => /^max-age=0$/i.test(a))) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return json<T>(res, `${method} /demo-site/${path}`);
  }

  async openSession(action: SessionAction, userId?: string): Promise<{ sessionId: string }> {
    // A site enrols a face only for someone it has signed in (the demo signs in by name).
    if (action === 'enroll' && userId !== undefined && this.signedIn !== userId) {
      await this.call('POST', 'sign-in', { name: userId });
      this.signedIn = userId;
    }
    const r = await this.call<{ sessionId: string; action: SessionAction; server: string }>('POST', 'sessions', { action, ...(action === 'verify' ? { userId } : {}) });
    this.server = r.server;
    return { sessionId: r.sessionId };
  }

  sessionResult(sessionId: string): Promise<SessionResult> {
    return this.call('GET', `sessions/${encodeURIComponent(sessionId)}/result`);
  }
}
