import { describe, expect, it } from 'vitest';
import { en, messagesFor } from '../../src/element/i18n.js';

describe('messagesFor', () => {
  it('picks the exact tag, then its language, then English', () => {
    expect(messagesFor('zh-CN').actionVerify).not.toBe(en.actionVerify);
    expect(messagesFor('zh-TW')).toBe(messagesFor('zh-CN'));
    expect(messagesFor('fr')).toBe(en);
    expect(messagesFor('')).toBe(en);
    expect(messagesFor(undefined)).toBe(en);
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', '__proto__-CN', 'constructor-x'])(
    'lang=%s falls back to English (never Object.prototype)',
    (lang) => {
      const m = messagesFor(lang);
      expect(m).toBe(en);
      expect(typeof m.actionVerify).toBe('string');
      expect(m.actionVerify.length).toBeGreaterThan(0);
    },
  );
});
