/**
 * The OpenAPI 3.1 document, generated from the schemas the routes declare (collected by an
 * onRoute hook), so the document and the validation can never disagree. OpenAPI 3.1 schema
 * objects are JSON Schema, so the route schemas (TypeBox, src/protocol/routes/) go in unchanged.
 */
import type { RouteOptions } from 'fastify';
import { SERVER_ERROR_CODES, SERVER_ERRORS } from '../src/protocol/index.js';

export interface RouteRecord {
  readonly method: string;
  readonly url: string;
  readonly schema: Record<string, unknown>;
}

type Schema = { type?: unknown; properties?: Record<string, unknown>; required?: readonly string[] } & Record<string, unknown>;

export function recordRoute(routes: RouteRecord[], r: RouteOptions): void {
  if (!r.schema) return;
  const methods = Array.isArray(r.method) ? r.method : [r.method];
  for (const m of methods) {
    if (m === 'HEAD' || m === 'OPTIONS') continue;
    routes.push({ method: m.toLowerCase(), url: r.url, schema: r.schema as Record<string, unknown> });
  }
}

function parameters(schema: Schema | undefined, where: 'path' | 'query' | 'header'): object[] {
  if (!schema?.properties) return [];
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties).map(([name, s]) => {
    const { description, ...rest } = s as { description?: string };
    return { name, in: where, required: where === 'path' || required.has(name), ...(description ? { description } : {}), schema: rest };
  });
}

function codesWithStatus(pick: (status: number) => boolean): string {
  return SERVER_ERROR_CODES.filter((c) => pick(SERVER_ERRORS[c].status))
    .map((c) => `${c} ${SERVER_ERRORS[c].status}`)
    .join(', ');
}

const STATUS_TEXT: Record<string, string> = {
  '200': 'OK',
  '201': 'Created',
  '204': 'No Content',
  '4xx': `Refused: { error: { code, message } } with a stable code (${codesWithStatus((s) => s < 500)})`,
  '5xx': `Internal error: { error: { code, message } } (${codesWithStatus((s) => s >= 500)})`,
};

export function buildOpenApi(routes: readonly RouteRecord[], info: { title: string; version: string; description?: string }): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const r of routes) {
    if (r.url === '/openapi.json') continue;
    const path = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const s = r.schema as Record<string, Schema | undefined> & { summary?: string; description?: string };
    const responses: Record<string, object> = {};
    for (const [code, body] of Object.entries((s.response ?? {}) as Record<string, Schema>)) {
      const key = code.toUpperCase();
      const isEmpty = body.type === 'null';
      responses[key] = {
        description: (body.description as string | undefined) ?? STATUS_TEXT[code] ?? code,
        ...(isEmpty ? {} : { content: { 'application/json': { schema: body } } }),
      };
    }
    // OpenAPI describes Authorization and API-key headers as security schemes, not parameters.
    const headerProps = s.headers?.properties ?? {};
    const security = [
      ...('authorization' in headerProps ? [{ assertion: [] }] : []),
      ...('x-face-login-admin-key' in headerProps ? [{ adminKey: [] }] : []),
    ];
    const headerParams = parameters(s.headers, 'header').filter(
      (p) => !['authorization', 'x-face-login-admin-key'].includes((p as { name: string }).name),
    );
    const adminOnly = r.url.startsWith('/v1/admin/');
    const op: Record<string, unknown> = {
      ...(s.summary ? { summary: s.summary } : {}),
      ...(s.description ? { description: s.description } : {}),
      operationId: `${r.method}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      parameters: [...parameters(s.params, 'path'), ...parameters(s.querystring, 'query'), ...headerParams],
      // {} = no credentials: proof is optional or replaceable by the face itself (see the description).
      ...(security.length ? { security: adminOnly ? security : [{}, ...security] } : {}),
      ...(s.body ? { requestBody: { required: true, content: { 'application/json': { schema: s.body } } } } : {}),
      responses,
    };
    (paths[path] ??= {})[r.method] = op;
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      securitySchemes: {
        assertion: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'An assertion (EdDSA compact JWS, keys at GET /v1/keys) from an accepted verify of the same user; single use.',
        },
        adminKey: { type: 'apiKey', in: 'header', name: 'x-face-login-admin-key', description: 'FACE_LOGIN_ADMIN_KEY (server to server only).' },
      },
    },
  };
}
