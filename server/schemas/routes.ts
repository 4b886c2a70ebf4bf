/** Request / response schemas of every route (the OpenAPI document is generated from these). */
import { action, embedding, emptyResponse, errorResponses, modelId, nonce, pose, userId, userParams } from './common.js';

const proofHeaderProps = {
  authorization: {
    type: 'string',
    maxLength: 4096,
    description:
      'Bearer <assertion> for this user (from an accepted verify / identify): the proof needed to delete, export, restore, ' +
      'or re-enroll / re-back-up a user whose new face does not match the old one.',
  },
  'x-face-login-admin-key': {
    type: 'string',
    maxLength: 512,
    description: 'The admin key (FACE_LOGIN_ADMIN_KEY): a portal backend acting for any user.',
  },
} as const;

const proofHeaders = { type: 'object', properties: proofHeaderProps } as const;

const nonceAndProofHeaders = {
  type: 'object',
  required: ['x-face-login-nonce'],
  properties: { 'x-face-login-nonce': nonce, ...proofHeaderProps },
} as const;

export const challengeSchema = {
  summary: 'Create a challenge',
  description:
    'A single-use nonce (256 random bits, base64url) bound to the action and the user (no user for identify), valid for the TTL (default 60 s).',
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['action'],
    properties: { action, userId },
  },
  response: {
    201: {
      type: 'object',
      additionalProperties: false,
      required: ['nonce', 'expiresAt'],
      properties: { nonce: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } },
    },
    ...errorResponses,
  },
} as const;

export const enrollSchema = {
  summary: 'Enroll a user',
  description:
    'Stores one template per pose for the model (replacing that user\'s templates for the model by default). Refused with ' +
    'duplicate-enrollment (409) when any template matches ANOTHER user at the model\'s threshold. Enrolling a user id that ' +
    'already has data needs proof: the new face matches the old templates, or an assertion for the user, or the admin key. ' +
    'With ifNotEnrolled: true, refused with already-enrolled (409) when the user already has templates for the model ' +
    '(the widget flushing an enrolment made offline: it only ever creates an enrolment, never replaces or adds to one).',
  headers: proofHeaders,
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['nonce', 'userId', 'modelId', 'templates'],
    properties: {
      nonce,
      userId,
      modelId,
      templates: {
        type: 'array',
        minItems: 1,
        maxItems: 10,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['embedding', 'pose'],
          properties: { embedding, pose },
        },
      },
      replace: { type: 'boolean', default: true },
      ifNotEnrolled: {
        type: 'boolean',
        default: false,
        description: 'Only create: 409 already-enrolled when the user already has templates for the model.',
      },
    },
  },
  response: {
    201: {
      type: 'object',
      additionalProperties: false,
      required: ['userId', 'templates'],
      properties: { userId: { type: 'string' }, templates: { type: 'integer', description: 'Templates the user now has for this model.' } },
    },
    ...errorResponses,
  },
} as const;

const assertion = {
  type: 'string',
  description: 'HS256 JWT {iss, sub, action, iat, exp, jti} for the portal backend to check (server/assertion.ts verifyAssertion).',
} as const;

export const verifySchema = {
  summary: 'Verify (1:1)',
  description:
    'The server compares the probe with the user\'s best template and answers accept or reject (never the score). ' +
    `After too many rejects the user is locked out (429 locked-out with retryAfterSeconds).`,
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['nonce', 'userId', 'modelId', 'embedding'],
    properties: { nonce, userId, modelId, embedding },
  },
  response: {
    200: {
      type: 'object',
      additionalProperties: false,
      required: ['decision'],
      properties: { decision: { type: 'string', enum: ['accept', 'reject'] }, assertion },
    },
    ...errorResponses,
  },
} as const;

export const identifySchema = {
  summary: 'Identify (1:N, open set)',
  description: 'Accept with the best user when their best template reaches the threshold; otherwise reject (a stranger is never the nearest user).',
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['nonce', 'modelId', 'embedding'],
    properties: { nonce, modelId, embedding },
  },
  response: {
    200: {
      type: 'object',
      additionalProperties: false,
      required: ['decision'],
      properties: { decision: { type: 'string', enum: ['accept', 'reject'] }, userId: { type: 'string' }, assertion },
    },
    ...errorResponses,
  },
} as const;

export const deleteUserSchema = {
  summary: 'Delete a user and all their data',
  description: 'Templates, backup, attempts, lockout state and nonces. Needs a nonce for action delete and proof (assertion or admin key).',
  params: userParams,
  headers: nonceAndProofHeaders,
  response: { 204: emptyResponse, ...errorResponses },
} as const;

const templateOut = {
  type: 'object',
  additionalProperties: false,
  required: ['modelId', 'pose', 'embedding', 'createdAt'],
  properties: {
    modelId: { type: 'string' },
    pose: { type: 'string' },
    embedding: { type: 'array', items: { type: 'number' } },
    createdAt: { type: 'integer', description: 'ms since the epoch' },
  },
} as const;

const backupTemplateOut = {
  type: 'object',
  additionalProperties: false,
  required: ['pose', 'embedding', 'createdAt'],
  properties: { pose: { type: 'string' }, embedding: { type: 'array', items: { type: 'number' } }, createdAt: { type: 'integer' } },
} as const;

export const exportUserSchema = {
  summary: 'Export a user\'s data (GDPR)',
  description:
    'Everything stored about the user: templates, backup, and the attempts that name them (time, action, decision, model, client; ' +
    'the raw score is withheld, it would be a matching oracle). Needs a nonce for action export and proof.',
  params: userParams,
  headers: nonceAndProofHeaders,
  response: {
    200: {
      type: 'object',
      additionalProperties: false,
      required: ['userId', 'createdAt', 'templates', 'backup', 'attempts'],
      properties: {
        userId: { type: 'string' },
        createdAt: { type: 'integer' },
        templates: { type: 'array', items: templateOut },
        backup: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { modelId: { type: 'string' }, updatedAt: { type: 'integer' }, templates: { type: 'array', items: backupTemplateOut } },
        },
        attempts: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            properties: {
              at: { type: 'string', format: 'date-time' },
              action: { type: 'string' },
              claimedUser: { type: ['string', 'null'] },
              matchedUser: { type: ['string', 'null'] },
              decision: { type: 'string' },
              modelId: { type: 'string' },
              ip: { type: ['string', 'null'] },
              userAgent: { type: ['string', 'null'] },
              origin: { type: ['string', 'null'] },
            },
          },
        },
      },
    },
    ...errorResponses,
  },
} as const;

export const backupSchema = {
  summary: 'Back up the widget\'s local templates',
  description:
    'Stores the offline-first widget\'s templates (one backup per user, replaced by each PUT) apart from the enrolled server ' +
    'templates: a backup is never matched against. Replacing an existing backup or backing up an enrolled user needs proof: the ' +
    'new templates match the old ones, or an assertion, or the admin key.',
  params: userParams,
  headers: proofHeaders,
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['nonce', 'modelId', 'templates'],
    properties: {
      nonce,
      modelId,
      templates: {
        type: 'array',
        minItems: 1,
        maxItems: 20,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['embedding', 'pose', 'createdAt'],
          properties: { embedding, pose, createdAt: { type: 'integer', minimum: 0, description: 'ms since the epoch' } },
        },
      },
    },
  },
  response: { 204: emptyResponse, ...errorResponses },
} as const;

export const restoreSchema = {
  summary: 'Restore the widget\'s templates from the backup',
  description: 'Needs a nonce for action restore and proof (an assertion for the user or the admin key): templates are biometric data.',
  params: userParams,
  headers: proofHeaders,
  body: { type: 'object', additionalProperties: false, required: ['nonce'], properties: { nonce } },
  response: {
    200: {
      type: 'object',
      additionalProperties: false,
      required: ['modelId', 'templates'],
      properties: { modelId: { type: 'string' }, templates: { type: 'array', items: backupTemplateOut } },
    },
    ...errorResponses,
  },
} as const;

/** Not `required` in the schema: a missing key is 401 unauthorized (checked in the handler), not invalid-body. */
const adminHeaders = {
  type: 'object',
  properties: { 'x-face-login-admin-key': proofHeaderProps['x-face-login-admin-key'] },
} as const;

export const labelAttemptSchema = {
  summary: 'Label an attempt genuine or impostor (admin)',
  description: 'Labels feed the threshold report (tsx server/report.ts).',
  headers: adminHeaders,
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['id'],
    properties: { id: { type: 'string', pattern: '^[1-9][0-9]{0,15}$' } },
  },
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['label'],
    properties: { label: { type: 'string', enum: ['genuine', 'impostor'] } },
  },
  response: { 204: emptyResponse, ...errorResponses },
} as const;

export const listAttemptsSchema = {
  summary: 'List audit attempts (admin)',
  description: 'Keyset pages of the audit log, scores included (admin only, never to the page).',
  headers: adminHeaders,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      after: { type: 'string', pattern: '^[0-9]{1,16}$', description: 'Return attempts with id > after.' },
      limit: { type: 'string', pattern: '^[0-9]{1,4}$', description: '1-1000, default 100.' },
    },
  },
  response: {
    200: {
      type: 'object',
      additionalProperties: false,
      required: ['attempts'],
      properties: {
        attempts: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            properties: {
              id: { type: 'integer' },
              at: { type: 'string', format: 'date-time' },
              action: { type: 'string' },
              claimedUser: { type: ['string', 'null'] },
              matchedUser: { type: ['string', 'null'] },
              decision: { type: 'string' },
              score: { type: ['number', 'null'] },
              modelId: { type: 'string' },
              ip: { type: ['string', 'null'] },
              userAgent: { type: ['string', 'null'] },
              origin: { type: ['string', 'null'] },
              label: { type: ['string', 'null'] },
            },
          },
        },
      },
    },
    ...errorResponses,
  },
} as const;

export const healthSchema = {
  summary: 'Health',
  response: {
    200: {
      type: 'object',
      additionalProperties: false,
      required: ['ok', 'db'],
      properties: {
        ok: { type: 'boolean' },
        db: { type: 'string', enum: ['sqlite', 'postgres'] },
        models: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            properties: { size: { type: 'integer' } },
          },
        },
      },
    },
    ...errorResponses,
  },
} as const;

export const openapiSchema = {
  summary: 'This API as an OpenAPI 3.1 document',
  response: { 200: { type: 'object', additionalProperties: true } },
} as const;
