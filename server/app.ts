/**
 * The verification backend as one Fastify instance: `buildApp(config)` opens (or takes) the
 * store, migrates it, loads the 1:N galleries, and registers CORS, rate limits, the error
 * handler and every route under /v1. It listens on nothing: server/server.ts is the runner, tests
 * call `app.inject()`.
 *
 * Two modes. The main one (always): the site's backend opens a session with its site key, the
 * page uploads frames, the server examines them itself (`options.examiner`) and decides, and only
 * the site reads the result (routes/sessions.ts); the site deletes / exports users with its key
 * (routes/site-users.ts). The device routes (challenges, enroll, verify, identify, users, backup),
 * where the page sends an embedding and the server decides from it, are registered only with
 * `config.trustDeviceEmbeddings` (FACE_LOGIN_UNSAFE_TRUST_DEVICE_EMBEDDINGS): without it they
 * answer 403 device-routes-disabled and stay out of the OpenAPI document. Neither mode ever sends
 * a score to the page.
 */
import Fastify, { LogController, type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { ServerConfig } from './config.js';
import { ApiError } from './errors.js';
import { corsHook, errorHandler, notFoundHandler, registerDisabled } from './http.js';
import { DEVICE_ROUTES, USER_ID } from '../src/protocol/index.js';
import { GalleryIndex } from './index/gallery-index.js';
import { buildOpenApi, recordRoute, type RouteRecord } from './openapi.js';
import adminRoutes from './routes/admin.js';
import backupRoutes from './routes/backup.js';
import challengeRoutes from './routes/challenges.js';
import decisionRoutes from './routes/decisions.js';
import enrollRoutes from './routes/enroll.js';
import metaRoutes from './routes/meta.js';
import sessionRoutes from './routes/sessions.js';
import siteUserRoutes from './routes/site-users.js';
import userRoutes from './routes/users.js';
import { openStore } from './store/open.js';
import type { Store } from './store/types.js';
import { retentionCutoffs } from './audit/retention.js';
import type { FaceExaminer } from './vision/examine-types.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: ServerConfig;
    store: Store;
    gallery: GalleryIndex;
    /** Counts one request against the per-user limit; throws rate-limited when over. */
    limitUser(req: FastifyRequest, userId: string): Promise<void>;
    /** Runs enrollments of this process one at a time (see routes/enroll.ts). */
    serializeEnroll<T>(fn: () => Promise<T>): Promise<T>;
    /** The OpenAPI document of the routes registered so far. */
    openapi(): object;
  }
}

export interface BuildOptions {
  /** Fastify logger options; default: the config's level, or off under tests (logger: false). */
  readonly logger?: FastifyServerOptions['logger'];
  /** An already open store (not closed by the app); default: opened from config.db and closed on app.close(). */
  readonly store?: Store;
  /**
   * The server's face examination for the session routes (server/vision/examine.ts; tests may
   * pass a double). Not disposed by the app. Without one (or without FACE_LOGIN_SITE_KEYS) the
   * session routes answer sessions-disabled.
   */
  readonly examiner?: FaceExaminer;
}

const NONCE_PURGE_MS = 60_000;
/** Audit retention and idle guards: once an hour (and once at the first tick). */
const RETENTION_PURGE_MS = 60 * 60_000;

export async function buildApp(config: ServerConfig, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? (config.logLevel === 'silent' ? false : { level: config.logLevel }),
    logController: new LogController({ disableRequestLogging: !config.logRequests }),
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy === false ? false : [...config.trustProxy],
    requestTimeout: 30_000,
    keepAliveTimeout: 10_000,
    return503OnClosing: true,
    // A user id may be 128 characters, and percent-encoding can triple that: the default 100 made such users unreachable by path.
    maxParamLength: 3 * USER_ID.maxLength,
    // Malformed URLs and over-long params are answered by our error handler too (typed body, no echo of the path).
    frameworkErrors: (err, req, reply) => errorHandler(err, req, reply),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false } },
  });

  const ownStore = options.store === undefined;
  const store = options.store ?? (await openStore(config.db, config.templateKeys));
  try {
    await store.migrate();
    const gallery = new GalleryIndex(store, config.models);
    await gallery.load();
    app.decorate('config', config);
    app.decorate('store', store);
    app.decorate('gallery', gallery);
  } catch (e) {
    if (ownStore) await store.close().catch(() => {});
    throw e;
  }

  const routes: RouteRecord[] = [];
  app.addHook('onRoute', (r) => recordRoute(routes, r));
  app.decorate('openapi', () =>
    buildOpenApi(routes, {
      title: 'face-login verification backend',
      version: '1',
      description:
        'The server decides: it stores templates, answers accept / reject (never the score), and signs an assertion on accept. ' +
        'Errors are { error: { code, message } } with stable codes.',
    }),
  );

  // JSON only: without Fastify's text/plain parser, any other content type is 415.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.addHook('onRequest', corsHook(config.origins));

  const rl = config.rateLimit;
  await app.register(rateLimit, {
    global: rl.perIp > 0,
    max: rl.perIp > 0 ? rl.perIp : 1,
    timeWindow: rl.windowMs,
    cache: 100_000,
    errorResponseBuilder: (_req, ctx) =>
      new ApiError('rate-limited', `Too many requests from this address; retry in ${ctx.after}.`, {
        retryAfterSeconds: Math.max(1, Math.ceil(ctx.ttl / 1000)),
      }),
  });
  const perUser = rl.perUser > 0 ? app.createRateLimit({ max: rl.perUser, timeWindow: rl.windowMs, keyGenerator: (req) => perUserKey(req) }) : null;
  app.decorate('limitUser', async (req: FastifyRequest, userId: string) => {
    if (!perUser) return;
    userKeys.set(req, userId);
    const r = await perUser(req);
    if (!r.isAllowed && r.isExceeded) {
      throw new ApiError('rate-limited', 'Too many requests for this user from this address; retry later.', { retryAfterSeconds: Math.max(1, r.ttlInSeconds) });
    }
  });

  let enrollQueue: Promise<unknown> = Promise.resolve();
  app.decorate('serializeEnroll', <T>(fn: () => Promise<T>): Promise<T> => {
    const run = enrollQueue.then(fn, fn);
    enrollQueue = run.catch(() => {});
    return run;
  });

  await app.register(metaRoutes);
  await app.register(adminRoutes);
  await app.register(sessionRoutes, { examiner: options.examiner });
  await app.register(siteUserRoutes);
  if (config.trustDeviceEmbeddings) {
    await app.register(challengeRoutes);
    await app.register(enrollRoutes);
    await app.register(decisionRoutes);
    await app.register(userRoutes);
    await app.register(backupRoutes);
  } else {
    registerDisabled(
      app,
      DEVICE_ROUTES,
      'device-routes-disabled',
      'This server does not decide from embeddings computed by the page (the device routes are off). Sites open a session ' +
        '(POST /v1/sessions from their backend) and the page uploads frames; a deployment whose operator controls every ' +
        'device may set FACE_LOGIN_UNSAFE_TRUST_DEVICE_EMBEDDINGS=1.',
    );
  }

  let lastRetention = 0;
  const purge = setInterval(() => {
    const now = config.now();
    store.purgeExpiredNonces(now).catch((err: unknown) => app.log.warn({ err }, 'nonce purge failed'));
    store.purgeExpiredSessions(now).catch((err: unknown) => app.log.warn({ err }, 'session purge failed'));
    if (now - lastRetention >= RETENTION_PURGE_MS) {
      lastRetention = now;
      store
        .purgeOld(retentionCutoffs(config, now))
        .then((n) => (n.attempts + n.guards > 0 ? app.log.info(n, 'retention purge') : undefined))
        .catch((err: unknown) => app.log.warn({ err }, 'retention purge failed'));
    }
  }, NONCE_PURGE_MS);
  purge.unref();
  app.addHook('onClose', async () => {
    clearInterval(purge);
    if (ownStore) await store.close();
  });
  return app;
}

const userKeys = new WeakMap<FastifyRequest, string>();

/**
 * Per user AND address: a per-user key alone let anyone give a user a 429 by spending her budget
 * from elsewhere. Guessing across addresses is what the lockout (consecutive failures per user,
 * server/audit/lockout.ts) stops; this limit only keeps one client from hammering one user.
 */
function perUserKey(req: FastifyRequest): string {
  return `user:${userKeys.get(req) ?? ''}@${req.ip}`;
}
