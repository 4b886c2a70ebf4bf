/**
 * What the element runs and says: a mode becomes one action on FaceAuth's public API
 * (src/core/actions.ts), its result one typed outcome, and each outcome exactly one event and
 * status (src/element/events.ts announcementFor). Unknown modes are invalid-input.
 */
import { describe, expect, it, vi } from 'vitest';
import { assertActionMode, runAction, type ActionOutcome } from '../../src/core/actions.js';
import type { FaceAuth } from '../../src/core/engine.js';
import { FaceLoginError } from '../../src/core/errors.js';
import type { IdentifyResult, VerifyResult } from '../../src/core/types.js';
import { announcementFor } from '../../src/element/events.js';
import { en, zhCN } from '../../src/element/i18n.js';

/** The part of FaceAuth an action may use, scripted. */
class StubAuth extends EventTarget {
  enroll = vi.fn(async (userId: string, _o?: unknown) => ({ userId, templates: 3, modelId: 'm1' }));
  verify = vi.fn(async (userId: string, _o?: unknown): Promise<VerifyResult> => ({ accepted: userId === 'ann', userId, score: 0.7, threshold: 0.42 }));
  identifyResults: IdentifyResult[] = [];
  identify = vi.fn(async (o?: { signal?: AbortSignal }): Promise<IdentifyResult> => {
    const next = this.identifyResults.shift();
    if (next) return next;
    // Nothing scripted: wait for the caller to abort, as the engine does with nobody in view.
    return new Promise((_, reject) => o?.signal?.addEventListener('abort', () => reject(new FaceLoginError('aborted', 'aborted'))));
  });
}
const asAuth = (s: StubAuth) => s as unknown as FaceAuth;

async function rejection(p: Promise<unknown>): Promise<FaceLoginError> {
  try {
    await p;
  } catch (e) {
    return e as FaceLoginError;
  }
  throw new Error('expected a rejection');
}

describe('assertActionMode', () => {
  it('maps the element\'s mode (and continuous) to an action; anything else is invalid-input', () => {
    expect(assertActionMode('enroll')).toBe('enroll');
    expect(assertActionMode('verify', true)).toBe('verify');
    expect(assertActionMode('identify')).toBe('identify');
    expect(assertActionMode('identify', true)).toBe('kiosk');
    for (const bad of ['', 'login', 'Identify', 'kiosk ']) {
      expect(() => assertActionMode(bad)).toThrowError(FaceLoginError);
      try {
        assertActionMode(bad);
      } catch (e) {
        expect((e as FaceLoginError).code).toBe('invalid-input');
      }
    }
  });
});

describe('runAction', () => {
  it('enroll, verify and identify resolve with typed outcomes (decidedBy defaults to the device)', async () => {
    const auth = new StubAuth();
    const signal = new AbortController().signal;
    expect(await runAction(asAuth(auth), { mode: 'enroll', userId: 'ann', guided: true }, { signal })).toEqual({ kind: 'enrolled', userId: 'ann', templates: 3, modelId: 'm1' });
    expect(auth.enroll).toHaveBeenCalledWith('ann', { signal, guided: true });
    expect(await runAction(asAuth(auth), { mode: 'verify', userId: 'ann' }, { liveness: 'active' })).toMatchObject({ kind: 'verified', userId: 'ann', score: 0.7, threshold: 0.42, decidedBy: 'device' });
    expect(auth.verify).toHaveBeenLastCalledWith('ann', { signal: undefined, liveness: 'active' });
    expect(await runAction(asAuth(auth), { mode: 'verify', userId: 'bob' })).toMatchObject({ kind: 'rejected', userId: 'bob', decidedBy: 'device' });
    auth.identifyResults.push({ userId: 'ann', assertion: 'tok', decidedBy: 'server' }, { userId: null, score: 0.2, threshold: 0.5 });
    expect(await runAction(asAuth(auth), { mode: 'identify' })).toMatchObject({ kind: 'identified', userId: 'ann', assertion: 'tok', decidedBy: 'server' });
    expect(await runAction(asAuth(auth), { mode: 'identify' })).toMatchObject({ kind: 'unknown', score: 0.2, threshold: 0.5, decidedBy: 'device' });
  });

  it('the kiosk reports each person through onOutcome and resolves with null once aborted', async () => {
    vi.useFakeTimers();
    try {
      const auth = new StubAuth();
      auth.identifyResults.push({ userId: 'ann', score: 0.8, threshold: 0.5 }, { userId: null });
      const seen: ActionOutcome[] = [];
      const ac = new AbortController();
      const done = runAction(asAuth(auth), { mode: 'kiosk', cooldownMs: 1000, onOutcome: (o) => seen.push(o) }, { signal: ac.signal });
      await vi.advanceTimersByTimeAsync(1000);
      ac.abort();
      expect(await done).toBeNull();
      expect(seen.map((o) => o.kind)).toEqual(['identified', 'unknown']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses an unknown mode and a kiosk without onOutcome with invalid-input, calling nothing', async () => {
    const auth = new StubAuth();
    expect((await rejection(runAction(asAuth(auth), { mode: 'login' as never }))).code).toBe('invalid-input');
    expect((await rejection(runAction(asAuth(auth), { mode: 'kiosk' }))).code).toBe('invalid-input');
    expect(auth.identify).not.toHaveBeenCalled();
  });
});

describe('announcementFor: one outcome, one status and one event', () => {
  const cases: [ActionOutcome, string, string, Record<string, unknown>][] = [
    [{ kind: 'enrolled', userId: 'ann', templates: 5, modelId: 'm1' }, 'enrolled', 'face-login-enrolled', { userId: 'ann', templates: 5, modelId: 'm1' }],
    [{ kind: 'verified', userId: 'ann', score: 0.7, threshold: 0.4, decidedBy: 'device' }, 'verified', 'face-login-verified', { userId: 'ann', score: 0.7, decidedBy: 'device' }],
    [{ kind: 'rejected', userId: 'ann', decidedBy: 'server' }, 'rejected', 'face-login-rejected', { mode: 'verify', userId: 'ann', decidedBy: 'server' }],
    [{ kind: 'identified', userId: 'ann', assertion: 't', decidedBy: 'server' }, 'identified', 'face-login-identified', { userId: 'ann', assertion: 't', decidedBy: 'server' }],
    [{ kind: 'unknown', score: 0.1, threshold: 0.5, decidedBy: 'device' }, 'unknown', 'face-login-rejected', { mode: 'identify', userId: null, score: 0.1 }],
    [{ kind: 'submitted', sessionId: 's'.repeat(43), action: 'verify' }, 'submitted', 'face-login-submitted', { sessionId: 's'.repeat(43), action: 'verify' }],
  ];
  it.each(cases)('%o (expose-scores)', (outcome, status, event, detail) => {
    const a = announcementFor(outcome, en, { exposeScores: true });
    expect(a.status).toBe(status);
    expect(a.event.name).toBe(event);
    expect(a.event.detail).toMatchObject(detail);
  });

  it('no score or threshold in any decision event unless the page opts in with expose-scores', () => {
    const device: ActionOutcome[] = [
      { kind: 'verified', userId: 'ann', score: 0.7, threshold: 0.4, decidedBy: 'device' },
      { kind: 'rejected', userId: 'ann', score: 0.2, threshold: 0.4, decidedBy: 'device' },
      { kind: 'identified', userId: 'ann', score: 0.8, threshold: 0.6, decidedBy: 'device' },
      { kind: 'unknown', score: 0.1, threshold: 0.6, decidedBy: 'device' },
    ];
    for (const o of device) {
      const hidden = JSON.stringify(announcementFor(o, en).event.detail);
      expect(hidden, o.kind).not.toMatch(/score|threshold|0\.[1-8]/);
      expect(JSON.stringify(announcementFor(o, en, { exposeScores: false }).event.detail)).toBe(hidden);
      const shown = announcementFor(o, en, { exposeScores: true }).event.detail as { score?: number; threshold?: number };
      expect([shown.score, shown.threshold], o.kind).toEqual([(o as { score: number }).score, (o as { threshold: number }).threshold]);
    }
    // Whatever the option, the fields that decide stay.
    expect(announcementFor(device[0]!, en).event.detail).toEqual({ userId: 'ann', decidedBy: 'device' });
    expect(announcementFor(device[3]!, en).event.detail).toEqual({ mode: 'identify', userId: null, decidedBy: 'device' });
  });

  it('a session says "sent" and nothing else: no decision in the event or in any language\'s status text', () => {
    const a = announcementFor({ kind: 'submitted', sessionId: 'id', action: 'enroll' }, en);
    expect(JSON.parse(JSON.stringify(a.event.detail))).toEqual({ sessionId: 'id', action: 'enroll' });
    expect(a.message).toBeUndefined();
    for (const m of [en, zhCN]) {
      expect(m.submitted).not.toBe(m.verified);
      expect(m.submitted).not.toBe(m.rejected);
      expect(m.submitted).not.toBe(m.enrolled);
    }
  });

  it('names the person identified in the status text; no event carries a score the server did not give', () => {
    expect(announcementFor({ kind: 'identified', userId: 'ann', decidedBy: 'device' }, en).message).toBe(en.identifiedAs('ann'));
    const server = announcementFor({ kind: 'verified', userId: 'ann', assertion: 't', decidedBy: 'server' }, en);
    expect(JSON.parse(JSON.stringify(server.event.detail))).toEqual({ userId: 'ann', assertion: 't', decidedBy: 'server' });
  });
});
