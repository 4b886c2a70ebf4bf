/**
 * The demo pages' calls to the demo's site backend (demo/site-backend.ts, same origin): what a
 * real site's own front end does with its own backend. Shared by the demo page and the kiosk.
 */
export interface SiteAnswer {
  readonly status: number;
  readonly body: any;
}

/** One call to /demo-site/<path>, with the site's cookies; a non-JSON body is null. */
export async function site(method: 'GET' | 'POST', path: string, body?: unknown): Promise<SiteAnswer> {
  const res = await fetch(`/demo-site/${path}`, {
    method,
    credentials: 'same-origin',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/**
 * The site backend reads a session's result, polling while the server is still deciding (up to
 * 10 s): the result, or { error } (the site refused, or the server did not decide in time).
 */
export async function readResult(sessionId: string): Promise<any> {
  for (let i = 0; i < 40; i++) {
    const r = await site('GET', `sessions/${sessionId}/result`);
    if (r.status !== 200) return { error: r.body?.error ?? { message: `The site answered ${r.status}.` } };
    if (r.body.state !== 'pending') return r.body;
    await new Promise((ok) => setTimeout(ok, 250));
  }
  return { error: { message: 'The server did not decide in time.' } };
}
