/**
 * The demo's "site backend": the few lines a real site's backend adds to use face-login's main
 * mode, run as Vite middleware at the demo's own origin (vite.config.ts), so `npm start` runs the
 * whole flow with one command. It stands in for your backend; the page never holds the site key.
 *
 *   POST /demo-site/sign-in  { name }              signs the person in by name (the demo's stand-in
 *                                                  for a password or an e-mail link: NO real check)
 *   POST /demo-site/sign-out
 *   GET  /demo-site/me                             { available: true, user | null, server } or { available: false, reason }
 *                                                  (not configured, or the server is down: the page runs offline)
 *   POST /demo-site/sessions { action, userId? }   opens a face-login session with the site key:
 *        enroll   the signed-in user only (a site enrols a face for someone it has authenticated)
 *        verify   a claimed user (the face login)
 *        identify nobody (a kiosk)
 *        -> { sessionId, action, server }          what the page hands to <face-login session=...>
 *   GET  /demo-site/sessions/:id/result            reads the result with the site key, checks it is
 *        the session this site opened (id, action, user, its own nonce), and on an accepted verify /
 *        identify signs the person in. -> { state, decision?, userId, liveness?, refusal? }
 *
 * Configured by the environment of the Vite process (never VITE_-prefixed, so never in the page):
 * FACE_LOGIN_DEMO_BACKEND (the face-login server's URL) and FACE_LOGIN_DEMO_SITE_KEY (a key the
 * server lists in FACE_LOGIN_SITE_KEYS). scripts/start.mjs sets both; without them every route
 * answers 503 `site-backend-off`.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Connect, Plugin } from 'vite';
import { USER_ID } from '../src/protocol/constants.js';

const PREFIX = '/demo-site/';
const COOKIE = 'demo_site_user';
/** A random id per browser, set when it first opens a session: binds the sessions it opens to it. */
const FLOW = 'demo_site_flow';
const USER_RE = new RegExp(USER_ID.pattern);
const MAX_BODY = 4096;
/** Sessions this site opened and has not read yet (a real site keeps them in its own session store). */
const MAX_OPEN = 1000;

interface Opened {
  /** The browser that asked for it (its FLOW cookie): only that browser may read the result. */
  readonly flow: string;
  readonly action: 'enroll' | 'verify' | 'identify';
  readonly userId: string | null;
  readonly siteNonce: string;
  readonly openedAt: number;
}

class SiteError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface SiteBackendOptions {
  /** The face-login server (default FACE_LOGIN_DEMO_BACKEND). */
  readonly backend?: string;
  /** The site key (default FACE_LOGIN_DEMO_SITE_KEY). */
  readonly siteKey?: string;
}

/** The middleware itself (also usable outside Vite: any connect-style server). */
export function siteBackend(options: SiteBackendOptions = {}): Connect.NextHandleFunction {
  const backend = (options.backend ?? process.env.FACE_LOGIN_DEMO_BACKEND ?? '').replace(/\/+$/, '');
  const siteKey = options.siteKey ?? process.env.FACE_LOGIN_DEMO_SITE_KEY ?? '';
  // Signs the demo's sign-in cookie; a new one per process (a restart signs everyone out).
  const cookieKey = randomBytes(32);
  const opened = new Map<string, Opened>();

  const sign = (user: string) => createHmac('sha256', cookieKey).update(user).digest('base64url');
  const cookie = (req: IncomingMessage, name: string): string | null => {
    const raw = (req.headers.cookie ?? '').split(/;\s*/).find((c) => c.startsWith(`${name}=`));
    return raw ? decodeURIComponent(raw.slice(name.length + 1)) : null;
  };
  const cookieUser = (req: IncomingMessage): string | null => {
    const raw = cookie(req, COOKIE);
    if (!raw) return null;
    const [user, mac] = raw.split('.');
    if (!user || !mac || !USER_RE.test(user)) return null;
    const want = Buffer.from(sign(user));
    const got = Buffer.from(mac);
    return want.length === got.length && timingSafeEqual(want, got) ? user : null;
  };
  const setCookie = (res: ServerResponse, line: string) => {
    const prev = res.getHeader('set-cookie');
    res.setHeader('set-cookie', [...(Array.isArray(prev) ? prev : prev ? [String(prev)] : []), line]);
  };
  const setUser = (res: ServerResponse, user: string | null) => {
    const value = user === null ? '' : encodeURIComponent(`${user}.${sign(user)}`);
    setCookie(res, `${COOKIE}=${value}; Path=/demo-site/; HttpOnly; SameSite=Strict${user === null ? '; Max-Age=0' : ''}`);
  };
  /** This browser's flow id (set now if it has none). */
  const flowOf = (req: IncomingMessage, res: ServerResponse): string => {
    const have = cookie(req, FLOW);
    if (have && /^[A-Za-z0-9_-]{32}$/.test(have)) return have;
    const flow = randomBytes(24).toString('base64url');
    setCookie(res, `${FLOW}=${flow}; Path=/demo-site/; HttpOnly; SameSite=Strict`);
    return flow;
  };

  async function faceLogin(method: 'GET' | 'POST', path: string, body?: unknown): Promise<any> {
    const res = await fetch(`${backend}${path}`, {
      method,
      headers: { 'x-face-login-site-key': siteKey, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }).catch((e: unknown) => {
      throw new SiteError(502, 'backend-unavailable', `The face-login server at ${backend} cannot be reached (${String(e)}).`);
    });
    const json = (await res.json().catch(() => null)) as any;
    if (!res.ok) {
      throw new SiteError(res.status === 429 || res.status === 503 ? res.status : 502, json?.error?.code ?? 'backend-error', json?.error?.message ?? `face-login answered ${res.status}.`);
    }
    return json;
  }

  async function route(req: IncomingMessage, res: ServerResponse, path: string): Promise<unknown> {
    // The page asks first whether there is a server flow at all: a plain answer, never an HTTP error
    // (an offline demo must load with a clean console).
    if (req.method === 'GET' && path === 'me') {
      if (!backend || !siteKey) return { available: false, reason: 'The demo\'s site backend is off: run `npm start`.' };
      const up = await fetch(`${backend}/v1/health`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
      if (!up) return { available: false, reason: `The face-login server at ${backend} is not reachable.` };
      return { available: true, user: cookieUser(req), server: backend };
    }
    if (!backend || !siteKey) {
      throw new SiteError(503, 'site-backend-off', 'The demo\'s site backend is off: run `npm start` (it sets FACE_LOGIN_DEMO_BACKEND and FACE_LOGIN_DEMO_SITE_KEY).');
    }
    if (req.method === 'POST' && path === 'sign-in') {
      const { name } = (await readJson(req)) as { name?: unknown };
      if (typeof name !== 'string' || !USER_RE.test(name) || name.length > USER_ID.maxLength) {
        throw new SiteError(400, 'invalid-name', 'A name is 1-128 characters from A-Z a-z 0-9 . _ @ + : -');
      }
      setUser(res, name);
      return { user: name };
    }
    if (req.method === 'POST' && path === 'sign-out') {
      setUser(res, null);
      return { user: null };
    }
    if (req.method === 'POST' && path === 'sessions') {
      const { action, userId } = (await readJson(req)) as { action?: unknown; userId?: unknown };
      let user: string | null;
      if (action === 'enroll') {
        user = cookieUser(req);
        if (user === null) throw new SiteError(401, 'not-signed-in', 'Sign in first: the site enrols a face only for someone it has already signed in.');
      } else if (action === 'verify') {
        if (typeof userId !== 'string' || !USER_RE.test(userId)) throw new SiteError(400, 'invalid-name', 'Say who you are: a name to log in as.');
        user = userId;
      } else if (action === 'identify') {
        user = null;
      } else {
        throw new SiteError(400, 'invalid-action', 'action is enroll, verify or identify.');
      }
      const siteNonce = randomBytes(18).toString('base64url');
      const s = await faceLogin('POST', '/v1/sessions', { action, ...(user === null ? {} : { userId: user }), siteNonce });
      if (opened.size >= MAX_OPEN) opened.delete(opened.keys().next().value!);
      opened.set(s.sessionId, { flow: flowOf(req, res), action, userId: user, siteNonce, openedAt: Date.now() });
      return { sessionId: s.sessionId, action, server: backend };
    }
    const m = /^sessions\/([A-Za-z0-9_-]{43})\/result$/.exec(path);
    if (req.method === 'GET' && m) {
      const id = m[1]!;
      const mine = opened.get(id);
      // Only the browser that asked for the session may read it: a session id seen elsewhere is worth nothing.
      if (!mine || cookie(req, FLOW) !== mine.flow) throw new SiteError(404, 'unknown-session', 'This site did not open that session for this browser.');
      const r = await faceLogin('GET', `/v1/sessions/${id}/result`);
      // The site checks that the result is the one it asked for: its own nonce, action and user.
      if (r.sessionId !== id || r.siteNonce !== mine.siteNonce || r.action !== mine.action || (mine.action !== 'identify' && r.userId !== mine.userId)) {
        throw new SiteError(502, 'result-mismatch', 'The result does not match the session this site opened.');
      }
      if (r.state === 'done' || r.state === 'refused' || r.state === 'expired') opened.delete(id);
      const signedIn = r.decision === 'accept' && r.action !== 'enroll' && typeof r.userId === 'string';
      if (signedIn) setUser(res, r.userId);
      return {
        state: r.state,
        action: r.action,
        userId: r.userId,
        ...(r.decision ? { decision: r.decision } : {}),
        ...(r.liveness ? { liveness: r.liveness } : {}),
        ...(r.refusal ? { refusal: r.refusal } : {}),
        signedIn: signedIn ? r.userId : cookieUser(req),
      };
    }
    throw new SiteError(404, 'not-found', `No demo-site route ${req.method} ${PREFIX}${path}.`);
  }

  return (req, res, next) => {
    const url = req.url ?? '';
    if (!url.startsWith(PREFIX)) return next();
    const path = url.slice(PREFIX.length).split('?')[0]!;
    route(req, res, path).then(
      (body) => send(res, 200, body),
      (e: unknown) => {
        const err = e instanceof SiteError ? e : new SiteError(500, 'internal', String(e));
        send(res, err.status, { error: { code: err.code, message: err.message } });
      },
    );
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.setHeader('cache-control', 'no-store');
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new SiteError(413, 'body-too-large', 'The body is too large.');
    chunks.push(c as Buffer);
  }
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v;
  } catch {
    throw new SiteError(400, 'invalid-body', 'The body must be a JSON object.');
  }
}

/** The Vite plugin: the site backend in the dev server and in `vite preview`. */
export function demoSiteBackend(): Plugin {
  return {
    name: 'face-login-demo-site-backend',
    configureServer(server) {
      server.middlewares.use(siteBackend());
    },
    configurePreviewServer(server) {
      server.middlewares.use(siteBackend());
    },
  };
}
