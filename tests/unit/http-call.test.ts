/** What the page makes of the server's 5xx answers (src/adapters/verifier/http-call.ts): the server's own code keeps its meaning. */
import { describe, expect, it } from 'vitest';
import { callRoute } from '../../src/adapters/verifier/http-call.js';
import { healthRoute } from '../../src/protocol/index.js';

describe('server failures on the page', () => {
  it.each([
    ['storage-busy', 'backend-overloaded'],
    ['overloaded', 'backend-overloaded'],
    ['storage-full', 'backend-storage'],
    ['storage-unavailable', 'backend-storage'],
    ['internal', 'backend-unavailable'],
  ])('a 503/500 %s reaches the page as %s', async (serverCode, page) => {
    const fetch = (async () =>
      new Response(JSON.stringify({ error: { code: serverCode, message: 'm', retryAfterSeconds: 1 } }), { status: serverCode === 'internal' ? 500 : 503 })) as typeof globalThis.fetch;
    await expect(callRoute({ base: 'http://x', fetch, timeoutMs: 1000 }, healthRoute, {})).rejects.toMatchObject({ code: page, serverCode });
  });

  it('a 5xx that is not the server\'s own body is backend-unavailable', async () => {
    const fetch = (async () => new Response('<html>bad gateway</html>', { status: 502 })) as typeof globalThis.fetch;
    await expect(callRoute({ base: 'http://x', fetch, timeoutMs: 1000 }, healthRoute, {})).rejects.toMatchObject({ code: 'backend-unavailable', serverCode: null });
  });
});
