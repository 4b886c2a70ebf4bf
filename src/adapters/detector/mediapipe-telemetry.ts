/**
 * @mediapipe/tasks-vision 1.1.0 creates a usage logger in every task that POSTs task type,
 * running mode, OS, call counts and latencies to a Google endpoint every 60 s and on close(),
 * with no public option to turn it off (`enableLogging` is declared in vision.d.ts but absent
 * from the bundle). A login widget must make no third-party request, so we switch it off.
 *
 * The logger is minified; it is found by shape: a property of a property of the task with
 * flush() and close() that holds a sender with send(). Marking it failed (`error` set) makes
 * flush() a no-op, and close() clears its timer. The caller checks the count (1 per task) so an
 * upgrade that changes this shape fails loudly in tests instead of silently phoning home.
 * The demo's CSP (connect-src 'self') is the second layer.
 */
export function disableUsageLogging(task: object): number {
  let n = 0;
  for (const a of Object.values(task) as unknown[]) {
    if (!a || typeof a !== 'object') continue;
    for (const b of Object.values(a) as unknown[]) {
      const l = b as { flush?: unknown; close?: () => void; error?: unknown } | null;
      if (
        l && typeof l === 'object' && typeof l.flush === 'function' && typeof l.close === 'function' &&
        Object.values(l).some((v) => !!v && typeof (v as { send?: unknown }).send === 'function')
      ) {
        l.error = new Error('usage logging disabled by face-login');
        l.close!();
        n++;
      }
    }
  }
  return n;
}
