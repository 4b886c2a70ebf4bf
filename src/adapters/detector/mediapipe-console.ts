/**
 * The MediaPipe wasm (tasks-vision 1.1.0) writes TFLite's informational lines to stderr, which
 * Emscripten turns into console.error: every page load printed
 * "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." as a console *error* (at the first
 * detect). This drops exactly the known-benign lines and passes everything else through unchanged.
 *
 * How: the wasm's loader binds its stderr writer once, when its module factory runs, with
 * `console.error.bind(console)` (vision_wasm_internal.js: `var err = console.error.bind(console)`).
 * The factory runs inside FaceDetector.createFromOptions, so the adapter wraps console.error
 * only for that call (`withBenignMediaPipeLogsDropped`) and restores it afterwards: the wasm keeps
 * its bound copy of the filter for later frames; the page's console.error is its own again.
 * The browser test (tests/browser/detector-console.spec.ts) asserts that the line was seen and
 * dropped, and that other errors still reach the console, so an upgrade that changes this fails.
 */

/** Exact lines (one stderr line each) that are information, not errors. Keep this list narrow. */
export const BENIGN_MEDIAPIPE_LOGS: readonly RegExp[] = [/^INFO: Created TensorFlow Lite XNNPACK delegate for CPU\.\s*$/];

/** Is this console.error call one of the known-benign MediaPipe lines (a single string argument)? */
export function isBenignMediaPipeLog(args: readonly unknown[]): boolean {
  if (args.length !== 1) return false;
  const [line] = args;
  return typeof line === 'string' && BENIGN_MEDIAPIPE_LOGS.some((re) => re.test(line));
}

type ErrorFn = (...args: unknown[]) => void;
interface Installed {
  depth: number;
  original: ErrorFn;
  filter: ErrorFn;
}
const installed = new WeakMap<Pick<Console, 'error'>, Installed>();
let dropped = 0;

/** How many benign lines have been dropped in this page (for tests and diagnostics). */
export function droppedMediaPipeLogs(): number {
  return dropped;
}

/**
 * Runs `fn` with `target.error` (the global console by default) replaced by a filter that drops
 * the known-benign MediaPipe lines and forwards every other call, arguments and `this` unchanged,
 * to the console.error it replaced. Restored when the last overlapping call settles (unless
 * someone else replaced console.error meanwhile: theirs is left in place). Whatever captured the
 * filter while `fn` ran (the wasm's stderr writer) keeps filtering.
 */
export async function withBenignMediaPipeLogsDropped<T>(fn: () => Promise<T>, target: Pick<Console, 'error'> = console): Promise<T> {
  let state = installed.get(target);
  if (!state) {
    const original = target.error as ErrorFn;
    const filter: ErrorFn = function (this: unknown, ...args: unknown[]) {
      if (isBenignMediaPipeLog(args)) {
        dropped++;
        return;
      }
      original.apply(this ?? target, args);
    };
    state = { depth: 0, original, filter };
    installed.set(target, state);
    target.error = filter;
  }
  state.depth++;
  try {
    return await fn();
  } finally {
    if (--state.depth === 0) {
      installed.delete(target);
      if (target.error === state.filter) target.error = state.original;
    }
  }
}
