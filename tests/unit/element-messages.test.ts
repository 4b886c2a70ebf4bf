import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/core/errors.js';
import { en, zhCN, type Messages } from '../../src/element/i18n.js';

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
});
