import { FaceLoginError } from '../core/errors.js';
import { LANGUAGES } from './i18n.js';

/** The values `mode` takes (identify with `continuous` is the kiosk). */
export const ELEMENT_MODES = ['enroll', 'verify', 'identify'] as const;

/**
 * A BCP 47-ish language tag: a 2–3 letter language, then subtags of letters and digits
 * ("en", "zh-CN", "fr", "sr-Latn-RS"). Only such a tag may fall back to English when no table
 * speaks it; anything else ("__proto__", "constructor", "toString", "en US") is invalid-input.
 */
const LANGUAGE_TAG = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$/;

export function isLanguageTag(lang: string): boolean {
  return LANGUAGE_TAG.test(lang);
}

const list = (values: readonly string[]) => values.slice(0, -1).join(', ') + ' or ' + values[values.length - 1];

/** The attributes the element itself checks (as the page wrote them; undefined = not checked). */
export interface CheckedAttributes {
  mode?: string;
  lang?: string;
}

/**
 * One invalid-input error per attribute whose value is not one of its allowed values, each
 * naming them. An empty `lang` is the default (the page's language). The other closed sets are
 * checked where they are used, with the same kind of message: `backend` and `offline` by
 * parseBackendAttributes (the engine does not load), `liveness` by assertLivenessMode (the
 * engine refuses it at load and when it changes).
 */
export function checkAttributes(a: CheckedAttributes): FaceLoginError[] {
  const errors: FaceLoginError[] = [];
  if (a.mode !== undefined && !(ELEMENT_MODES as readonly string[]).includes(a.mode)) {
    errors.push(new FaceLoginError('invalid-input', `Unknown mode "${a.mode}": use ${list(ELEMENT_MODES)} (identify with continuous for a kiosk).`));
  }
  if (a.lang && !isLanguageTag(a.lang)) {
    errors.push(
      new FaceLoginError(
        'invalid-input',
        `Unknown lang "${a.lang}": use a language tag such as ${list(LANGUAGES)} (another language's tag, e.g. "fr", shows English).`,
      ),
    );
  }
  return errors;
}
