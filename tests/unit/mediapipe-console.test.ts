import { describe, expect, it, vi } from 'vitest';
import { droppedMediaPipeLogs, isBenignMediaPipeLog, withBenignMediaPipeLogsDropped } from '../../src/adapters/detector/mediapipe-console.js';

const INFO = 'INFO: Created TensorFlow Lite XNNPACK delegate for CPU.';

/** A console of its own per test: the global one is never touched here. */
function fakeConsole() {
  const calls: { self: unknown; args: unknown[] }[] = [];
  const error = function (this: unknown, ...args: unknown[]) {
    calls.push({ self: this, args });
  };
  const c = { error };
  return { c, calls, error };
}

describe('the MediaPipe console filter', () => {
  it('knows exactly the benign INFO line, nothing near it', () => {
    expect(isBenignMediaPipeLog([INFO])).toBe(true);
    expect(isBenignMediaPipeLog([`${INFO}\n`])).toBe(true);
    for (const other of [
      ['INFO: Initialized something else.'],
      ['ERROR: Created TensorFlow Lite XNNPACK delegate for CPU.'],
      [`Error: ${INFO}`],
      [`${INFO} But then it failed.`],
      [INFO, 'a second argument'],
      [new Error(INFO)],
      ['W0000 00:00:00.000 gl_context.cc:1135] OpenGL error checking is disabled'],
      [],
    ]) expect(isBenignMediaPipeLog(other), JSON.stringify(other)).toBe(false);
  });

  it('drops the INFO line while installed and forwards every other call unchanged, then restores console.error', async () => {
    const { c, calls, error } = fakeConsole();
    const err = new Error('boom');
    const before = droppedMediaPipeLogs();
    let bound: ((...a: unknown[]) => void) | undefined;
    const out = await withBenignMediaPipeLogsDropped(async () => {
      expect(c.error).not.toBe(error);
      bound = c.error.bind(c); // what the wasm's loader does when its factory runs
      c.error(INFO);
      c.error('a real error', err, 42);
      await Promise.resolve();
      return 'created';
    }, c);
    expect(out).toBe('created');
    expect(c.error).toBe(error);
    // Later frames: the wasm's bound copy still filters; the console's own error is untouched.
    bound!(INFO);
    bound!('later real error');
    c.error(INFO);
    expect(calls.map((x) => x.args)).toEqual([['a real error', err, 42], ['later real error'], [INFO]]);
    expect(calls.every((x) => x.self === c)).toBe(true);
    expect(droppedMediaPipeLogs() - before).toBe(2);
  });

  it('restores console.error when the call fails', async () => {
    const { c, error } = fakeConsole();
    await expect(withBenignMediaPipeLogsDropped(() => Promise.reject(new Error('no wasm')), c)).rejects.toThrow('no wasm');
    expect(c.error).toBe(error);
  });

  it('overlapping calls install the filter once and restore the original after the last one', async () => {
    const { c, calls, error } = fakeConsole();
    let releaseFirst!: () => void;
    const first = withBenignMediaPipeLogsDropped(() => new Promise<void>((r) => (releaseFirst = r)), c);
    const filter = c.error;
    let releaseSecond!: () => void;
    const second = withBenignMediaPipeLogsDropped(() => new Promise<void>((r) => (releaseSecond = r)), c);
    expect(c.error).toBe(filter); // not wrapped twice
    releaseFirst();
    await first;
    expect(c.error).toBe(filter);
    c.error(INFO);
    releaseSecond();
    await second;
    expect(c.error).toBe(error);
    expect(calls).toEqual([]);
  });

  it('leaves a console.error someone else installed meanwhile in place', async () => {
    const { c, calls } = fakeConsole();
    const theirs = vi.fn();
    await withBenignMediaPipeLogsDropped(async () => {
      c.error = theirs;
    }, c);
    expect(c.error).toBe(theirs);
    expect(calls).toEqual([]);
  });

  it('uses the global console by default and gives it back', async () => {
    const original = console.error;
    const spy = vi.fn();
    console.error = spy;
    try {
      await withBenignMediaPipeLogsDropped(async () => {
        console.error(INFO);
        console.error('still an error');
      });
      expect(console.error).toBe(spy);
      expect(spy.mock.calls).toEqual([['still an error']]);
    } finally {
      console.error = original;
    }
  });
});
