import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/core/errors.js';
import { en, zhCN, type Messages } from '../../src/element/i18n.js';
import { CAPTURE_REFUSALS } from '../../src/protocol/routes/sessions.js';

const tables: [string, Messages][] = [['en', en], ['zh-CN', zhCN]];

describe('person-facing messages', () => {
  it.each(tables)('%s: every error code has a sentence that does not show the code', (_, m) => {
    for (const code of ERROR_CODES) {
      const text = m[code];
      expect(text, code).toBeTypeOf('string');
      expect(text.trim().length, code).toBeGreaterThan(0);
      expect(text, code).not.toContain(code);
      expect(text, code).not.toMatch(/\b(Error|undefined|null)\b/);
    }
  });

  it('zh-CN says something of its own for every error code', () => {
    for (const code of ERROR_CODES) expect(zhCN[code], code).not.toBe(en[code]);
  });

  it.each(tables)('%s: the wait names its time limit; a server lockout names how long to wait', (_, m) => {
    expect(m.lookUpTo(30)).toContain('30');
    expect(m.upTo(30)).toContain('30');
    expect(m.waitFor(300)).toContain('5');
    expect(m.waitFor(45)).toContain('45');
    expect(m.cancelled.length).toBeGreaterThan(0);
  });

  it.each(tables)('%s: a session says it was sent and never what was decided; a used-up session says to start again from the site', (_, m) => {
    for (const t of [m.preparing, m.sending, m.submitted, m.actionSession, m.sessionInvalid, m.sessionEnded]) expect(t.trim().length).toBeGreaterThan(0);
    for (const decided of [m.verified, m.rejected, m.enrolled, m.identified, m.unknown]) expect(m.submitted).not.toBe(decided);
    for (const code of CAPTURE_REFUSALS) {
      expect(m.sessionRefused[code], code).toMatch(/\S/);
      expect(m.sessionRefused[code], code).not.toContain(code);
    }
    expect(m.serverBusy(7)).toContain('7');
    expect(m.serverBusy(120)).toContain('2');
  });

  it('zh-CN says the session texts in its own words', () => {
    for (const k of ['preparing', 'sending', 'submitted', 'actionSession', 'sessionInvalid', 'sessionEnded'] as const) expect(zhCN[k], k).not.toBe(en[k]);
    for (const code of CAPTURE_REFUSALS) expect(zhCN.sessionRefused[code], code).not.toBe(en.sessionRefused[code]);
  });
});
