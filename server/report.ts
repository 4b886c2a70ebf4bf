/**
 * Threshold report CLI: FMR / FNMR per threshold from attempts labeled genuine or impostor, and
 * the recommended threshold at FMR <= 1e-3 (and 1e-4).
 *
 *   tsx server/report.ts [--db <sqlite file | postgres://url>] [--schema <pg schema>] [--model <id>]
 *                        [--target-fmr 1e-3] [--label <attemptId>=genuine|impostor ...] [--json]
 *
 *   tsx server/report.ts --purge [--db ...]   deletes the audit rows past retention now (server/audit/retention.ts)
 *
 * --db defaults to DATABASE_URL, else FACE_LOGIN_SQLITE, else .data/face-login.sqlite. --label
 * writes labels straight into the database first (the same as POST /v1/admin/attempts/:id/label).
 * Set the new threshold with FACE_LOGIN_THRESHOLDS=<model>=<t> (or FACE_LOGIN_MODELS).
 */
import { parseArgs } from 'node:util';
import { buildReport, formatReport } from './audit/report.js';
import { retentionCutoffs } from './audit/retention.js';
import { configFromEnv, DEFAULT_MODEL_ID } from './config.js';
import { openStore } from './store/open.js';
import type { AttemptLabel } from './store/types.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      db: { type: 'string' },
      schema: { type: 'string' },
      model: { type: 'string', default: DEFAULT_MODEL_ID },
      'target-fmr': { type: 'string', default: '1e-3' },
      label: { type: 'string', multiple: true, default: [] },
      json: { type: 'boolean', default: false },
      purge: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log('usage: tsx server/report.ts [--db FILE|URL] [--schema S] [--model ID] [--target-fmr 1e-3] [--label ID=genuine|impostor ...] [--json] | --purge');
    return 0;
  }
  const target = Number(values['target-fmr']);
  if (!(target > 0 && target < 1)) throw new Error('--target-fmr must be in (0, 1).');
  const db = values.db ?? process.env.DATABASE_URL ?? process.env.FACE_LOGIN_SQLITE ?? '.data/face-login.sqlite';
  const store = await openStore(
    /^postgres(ql)?:\/\//.test(db)
      ? { kind: 'postgres', url: db, poolSize: 2, ...(values.schema ? { schema: values.schema } : {}) }
      : { kind: 'sqlite', path: db },
  );
  try {
    await store.migrate();
    if (values.purge) {
      const config = configFromEnv({ ...process.env, NODE_ENV: 'development' }).config;
      const n = await store.purgeOld(retentionCutoffs(config, Date.now()));
      console.log(`purged ${n.attempts} audit rows older than ${config.auditRetentionMs / 86_400_000} days and ${n.guards} idle guards`);
      return 0;
    }
    for (const l of values.label ?? []) {
      const m = /^(\d+)=(genuine|impostor)$/.exec(l);
      if (!m) throw new Error(`--label ${l}: expected <attemptId>=genuine|impostor`);
      if (!(await store.labelAttempt(Number(m[1]), m[2] as AttemptLabel, Date.now()))) throw new Error(`--label ${l}: no attempt ${m[1]}`);
    }
    const current = configFromEnv({ ...process.env, NODE_ENV: 'development' }).config.models[values.model!]?.threshold;
    const report = buildReport(await store.labeledScores(values.model), {
      targets: [...new Set([target, 1e-4])],
      ...(current !== undefined ? { extra: [current] } : {}),
    });
    if (values.json) console.log(JSON.stringify({ model: values.model, currentThreshold: current ?? null, ...report }, null, 2));
    else console.log(formatReport(report, { model: values.model!, ...(current !== undefined ? { current } : {}) }));
    return 0;
  } finally {
    await store.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`report: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
