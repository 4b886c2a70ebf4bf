import { describe, expect, it } from 'vitest';
import { en, messagesFor } from '../../src/element/i18n.js';
import { checkAttributes } from '../../src/element/attribute-check.js';
import { FaceLoginError } from '../../src/core/errors.js';

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

describe('checkAttributes: mode and lang outside their sets are invalid-input naming the allowed values', () => {
  it.each(['enrol', 'login', 'Verify', '', '__proto__'])('mode=%j', (mode) => {
    const [e, ...more] = checkAttributes({ mode });
    expect(more).toEqual([]);
    expect(e).toBeInstanceOf(FaceLoginError);
    expect(e).toMatchObject({ code: 'invalid-input' });
    for (const allowed of ['enroll', 'verify', 'identify']) expect(e!.message).toContain(allowed);
  });

  it.each(['enroll', 'verify', 'identify'])('mode=%s is fine', (mode) => {
    expect(checkAttributes({ mode })).toEqual([]);
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'en US', 'e', '<b>', 'zh_CN'])('lang=%j', (lang) => {
    const [e, ...more] = checkAttributes({ lang });
    expect(more).toEqual([]);
    expect(e).toMatchObject({ code: 'invalid-input' });
    expect(e!.message).toContain('en');
    expect(e!.message).toContain('zh-CN');
    // ...and the texts the element renders are still English, never empty.
    const m = messagesFor(lang);
    expect(m).toBe(en);
    for (const key of ['actionVerify', 'actionEnroll', 'ready', 'loading', 'invalid-input'] as const) expect(m[key].length).toBeGreaterThan(0);
  });

  it.each(['en', 'zh-CN', 'zh', 'fr', 'fr-CA', 'sr-Latn-RS', ''])('lang=%j is a tag (no error; fr shows English)', (lang) => {
    expect(checkAttributes({ lang })).toEqual([]);
  });

  it('reports each bad attribute, and nothing for what it was not asked to check', () => {
    expect(checkAttributes({ mode: 'enrol', lang: 'constructor' }).map((e) => e.message.split(':')[0])).toEqual(['Unknown mode "enrol"', 'Unknown lang "constructor"']);
    expect(checkAttributes({})).toEqual([]);
  });
});
