/**
 * The runner: configuration from the environment (validated; a bad value exits with code 2 and
 * the variable's name), listen, and a graceful close on SIGTERM / SIGINT (stop accepting, finish
 * in-flight requests, close the database) with a hard exit if that takes over 10 s.
 *
 *   tsx server/server.ts                        # SQLite at ./.data/face-login.sqlite, port 8787
 *   DATABASE_URL=postgres://... tsx server/server.ts
 *   FACE_LOGIN_SITE_KEYS=<32+ chars> tsx server/server.ts   # + the session routes (loads public/models)
 *
 * Prints one line `face-login server listening on http://HOST:PORT (db: ...)` when ready (the
 * durability test and scripts/start.mjs wait for it).
 */
import { buildApp } from './app.js';
import { ConfigError, configFromEnv } from './config.js';
import { ExaminerPool, type PoolEvent } from './vision/examiner-pool.js';

async function main(): Promise<void> {
  let env;
  try {
    env = configFromEnv(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`face-login server: bad configuration: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
  const { config, warnings } = env;
  // The session routes need the server's own face examination (models from public/models);
  // without a site key they are disabled, so the models are not loaded at all.
  // They run in FACE_LOGIN_EXAMINE_WORKERS worker threads (examiner-pool.ts), each with its own models.
  let onPoolEvent: (e: PoolEvent) => void = () => {};
  const examiner =
    config.siteKeys.length > 0
      ? await ExaminerPool.create({ size: config.examineWorkers, queue: config.examineQueue, examiner: { detectorRange: config.detectorRange }, onEvent: (e) => onPoolEvent(e) })
      : undefined;
  const app = await buildApp(config, { examiner });
  app.addHook('onClose', async () => examiner?.dispose());
  onPoolEvent = (e) => (e.kind === 'worker-replaced' ? app.log.info(e, 'face examination worker replaced') : app.log.warn(e, 'face examination worker failed'));
  if (examiner) app.log.info({ workers: examiner.size, queue: examiner.queueLimit }, 'face examination pool ready');
  for (const w of warnings) app.log.warn(w);
  if (!examiner && !config.trustDeviceEmbeddings) {
    app.log.warn(
      'no face login is served: sessions are off (set FACE_LOGIN_SITE_KEYS, >= 32 characters each, for your site backend) ' +
        'and the device routes are off (FACE_LOGIN_UNSAFE_TRUST_DEVICE_EMBEDDINGS); only health, keys and admin answer',
    );
  } else if (!examiner) {
    app.log.info('sessions are disabled: set FACE_LOGIN_SITE_KEYS (>= 32 characters each) to enable /v1/sessions');
  }

  let closing = false;
  const close = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'closing');
    const hard = setTimeout(() => {
      app.log.error('graceful close took over 10 s; exiting');
      process.exit(1);
    }, 10_000);
    hard.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'close failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => close('SIGTERM'));
  process.on('SIGINT', () => close('SIGINT'));

  const address = await app.listen({ host: config.host, port: config.port });
  const where = config.db.kind === 'sqlite' ? `sqlite ${config.db.path}` : 'postgres';
  // Plain stdout line (not JSON logs) so parents can wait for it.
  process.stdout.write(`face-login server listening on ${address} (db: ${where})\n`);
}

main().catch((err: unknown) => {
  console.error('face-login server failed to start:', err);
  process.exit(1);
});
