/**
 * Fastify route options from the protocol's routes (src/protocol/routes/): method, url and the
 * schema (summary, description, params, querystring, headers, body) with the full response map,
 * the route's own answers plus the error body for 4xx / 5xx. The OpenAPI document is generated
 * from these (server/openapi.ts), so the document, the validation and the page's checks all read
 * one definition.
 *
 * The app's Ajv runs with `removeAdditional: false` and `coerceTypes: false`: an unknown field or
 * a wrongly typed value is refused (invalid-body), never silently dropped or converted.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import type { FastifyTypeProvider } from 'fastify';
import { ErrorBody, type RouteSpec } from '../../src/protocol/index.js';

/** Request and reply types from the TypeBox schemas (validation stays Fastify's Ajv). */
export interface TypeBoxTypeProvider extends FastifyTypeProvider {
  validator: this['schema'] extends TSchema ? Static<this['schema']> : unknown;
  serializer: this['schema'] extends TSchema ? Static<this['schema']> : unknown;
}

export const errorResponses = { '4xx': ErrorBody, '5xx': ErrorBody } as const;

type FastifySchemaOf<R extends RouteSpec> = Omit<R, 'method' | 'url' | 'response'> & { response: R['response'] & typeof errorResponses };

export function fastifySchema<R extends RouteSpec>(route: R): FastifySchemaOf<R> {
  const { method: _method, url: _url, response, ...schema } = route;
  return { ...schema, response: { ...response, ...errorResponses } } as FastifySchemaOf<R>;
}

/** `app.route({ ...routeOptions(verifyRoute), handler })`. */
export function routeOptions<R extends RouteSpec>(route: R): { method: R['method']; url: R['url']; schema: FastifySchemaOf<R> } {
  return { method: route.method, url: route.url, schema: fastifySchema(route) };
}
