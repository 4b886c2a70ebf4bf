/**
 * Template key management (issue 11, "Template protection"), with the server's own configuration
 * (DATABASE_URL / FACE_LOGIN_SQLITE, FACE_LOGIN_TEMPLATE_KEYS):
 *
 *   npm run server:keys -- generate   # prints a new key entry id:base64 (nothing is written)
 *   npm run server:keys -- status     # data keys per KEK id, plaintext / encrypted rows (migrates the schema)
 *   npm run server:keys -- rotate     # re-wraps every data key under the current (first) key and
 *                                     # encrypts every plaintext template and backup; idempotent
 *   npm run server:keys -- rotate --vacuum   # then rewrites the database so no copy of the old plaintext
 *                                     # is left in it (locks writers: a maintenance window)
 *
 * Rotation, with servers running: (1) add the new key AFTER the current one on every instance
 * (FACE_LOGIN_TEMPLATE_KEYS=old,new) and restart them; (2) move it first (new,old) and restart;
 * (3) run `rotate` with new,old; (4) remove the old key (new) once `status` shows no data key under it.
 * Exit codes: 0 done, 1 failed, 2 bad configuration or usage.
 */
import { ConfigError, configFromEnv } from './config.js';
import { rotateTemplateKeys, templateKeyStatus, type KeyStatus } from './crypto/rotation.js';
import { TemplateProtectionError } from './crypto/template-cipher.js';
import { generateKeyEntry } from './crypto/template-keys.js';

function describe(s: KeyStatus): string {
  const kek = Object.entries(s.dataKeys).map(([id, n]) => `${id}: ${n}${id === s.currentKek ? ' (current)' : ''}`);
  return [
    `data keys per template key: ${kek.length ? kek.join(', ') : 'none'}`,
    `templates: ${s.encryptedTemplates} encrypted, ${s.plaintextTemplates} plaintext`,
    `backups: ${s.encryptedBackups} encrypted, ${s.plaintextBackups} plaintext`,
    `legacy plaintext rows: ${s.legacyPlaintextReadable ? 'still read (run rotate)' : 'refused'}`,
  ].join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const command = argv[0];
  if (command === 'generate') {
    process.stdout.write(`${generateKeyEntry()}\n`);
    return 0;
  }
  if (command !== 'rotate' && command !== 'status') {
    process.stderr.write('usage: server:keys -- generate | status | rotate [--batch N] [--vacuum]\n');
    return 2;
  }
  const batchAt = argv.indexOf('--batch');
  const batch = batchAt >= 0 ? Number(argv[batchAt + 1]) : 500;
  if (!Number.isInteger(batch) || batch < 1 || batch > 100_000) {
    process.stderr.write('--batch must be an integer in [1, 100000]\n');
    return 2;
  }
  let env;
  try {
    env = configFromEnv(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`server:keys: bad configuration: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const { config, warnings } = env;
  for (const w of warnings.filter((x) => x.includes('FACE_LOGIN_TEMPLATE_KEYS'))) process.stderr.write(`warning: ${w}\n`);
  const where = config.db.kind === 'sqlite' ? `sqlite ${config.db.path}` : 'postgres';
  if (command === 'status') {
    process.stdout.write(`${where}\n${describe(await templateKeyStatus(config.db, config.templateKeys))}\n`);
    return 0;
  }
  const t0 = performance.now();
  const vacuum = argv.includes('--vacuum');
  const r = await rotateTemplateKeys(config.db, config.templateKeys, { batch, vacuum, log: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(
    `${where}: re-wrapped ${r.rewrapped} data keys under ${config.templateKeys.current().id}, encrypted ${r.templatesEncrypted} templates ` +
      `and ${r.backupsEncrypted} backups, created ${r.dataKeysCreated} data keys (${((performance.now() - t0) / 1000).toFixed(1)} s)\n${describe(r.after)}\n`,
  );
  const retired = config.templateKeys.ids().filter((id) => id !== r.after.currentKek && !r.after.dataKeys[id]);
  if (retired.length) process.stdout.write(`no data key is wrapped under ${retired.join(', ')} any more: remove it from FACE_LOGIN_TEMPLATE_KEYS.\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof TemplateProtectionError) process.stderr.write(`server:keys: ${err.message}\n`);
    else process.stderr.write(`server:keys failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
