import * as T from '@sinclair/typebox';
import { MAX_EMBEDDING_LENGTH } from '../constants.js';
import { Closed, OneOf } from '../fields.js';
import { defineRoute } from '../route.js';

export const healthRoute = defineRoute({
  method: 'GET',
  url: '/v1/health',
  summary: 'Health',
  response: {
    200: Closed({
      ok: T.Boolean(),
      db: OneOf(['sqlite', 'postgres']),
      models: T.Record(T.String(), Closed({ size: T.Integer({ minimum: 1, maximum: MAX_EMBEDDING_LENGTH }) })),
    }),
  },
});

export const openapiRoute = defineRoute({
  method: 'GET',
  url: '/openapi.json',
  summary: 'This API as an OpenAPI 3.1 document',
  response: { 200: T.Object({}, { additionalProperties: true }) },
});
