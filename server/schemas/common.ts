/**
 * JSON Schemas shared by the routes. Every object schema sets `additionalProperties: false`
 * and the app's Ajv runs with `removeAdditional: false` and `coerceTypes: false`, so an unknown
 * field or a wrongly typed value is refused (invalid-body), never silently dropped or converted.
 * The same objects feed the OpenAPI document (server/openapi.ts).
 */
import { CHALLENGE_ACTIONS } from '../nonce.js';
import { POSES } from '../store/types.js';

export const userId = {
  type: 'string',
  minLength: 1,
  maxLength: 128,
  pattern: '^[A-Za-z0-9._@+:-]+$',
  description: 'The portal\'s user id: 1-128 characters from A-Z a-z 0-9 . _ @ + : -',
} as const;

export const nonce = {
  type: 'string',
  minLength: 16,
  maxLength: 128,
  pattern: '^[A-Za-z0-9_-]+$',
  description: 'A challenge nonce from POST /v1/challenges (base64url).',
} as const;

export const modelId = {
  type: 'string',
  minLength: 1,
  maxLength: 64,
  description: 'The embedder\'s model id (e.g. mobilefacenet-expo-1.0.24+flip); see GET /v1/health for the configured ones.',
} as const;

/** Length and finiteness are checked against the model by the handler (invalid-embedding). */
export const embedding = {
  type: 'array',
  minItems: 1,
  maxItems: 2048,
  items: { type: 'number' },
  description: 'The embedding as JSON numbers; its length must be the model\'s size, every value finite, the norm non-zero. The server L2-normalises it.',
} as const;

export const pose = { type: 'string', enum: POSES } as const;

export const action = { type: 'string', enum: CHALLENGE_ACTIONS } as const;

export const errorBody = {
  type: 'object',
  additionalProperties: false,
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      additionalProperties: false,
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'Stable kebab-case code (server/errors.ts).' },
        message: { type: 'string' },
        retryAfterSeconds: { type: 'integer', minimum: 0 },
      },
    },
  },
} as const;

export const errorResponses = { '4xx': errorBody, '5xx': errorBody } as const;

export const userParams = {
  type: 'object',
  additionalProperties: false,
  required: ['userId'],
  properties: { userId },
} as const;

export const emptyResponse = { type: 'null', description: 'No content.' } as const;
