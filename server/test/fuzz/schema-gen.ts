/**
 * Valid values from the protocol's TypeBox schemas (plain JSON Schema underneath): objects with
 * their required and some optional properties, arrays within their bounds, strings that fit
 * `pattern` / `minLength` / `maxLength` / `format`, numbers within their bounds, enums and consts.
 * `override(key, path)` lets the caller supply a value that is valid in context (a live nonce, an
 * enrolled user, an embedding of the model's size); anything it does not cover comes from the
 * schema, so a new route or a new field is generated without touching this file.
 *
 * Patterns are read by a small generator for what the protocol writes: `^...$` anchors, literal
 * characters and escapes (`\.`), character classes with ranges and `\xHH`, and the quantifiers
 * `? * + {m} {m,} {m,n}`. A pattern outside that (alternation, groups) falls back to the
 * schema's minLength of 'a's and is counted in `unsupported`, so the test can say so.
 */
import { between, chance, int, pick, type Rand } from './random.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** JSON Schema as TypeBox builds it (only the keywords read here). */
export interface Schema {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | Schema;
  readonly patternProperties?: Readonly<Record<string, Schema>>;
  readonly items?: Schema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly format?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly enum?: readonly Json[];
  readonly const?: Json;
  readonly anyOf?: readonly Schema[];
  readonly oneOf?: readonly Schema[];
  readonly allOf?: readonly Schema[];
  readonly default?: Json;
}

interface Atom {
  readonly chars: string; // the characters it may be
  readonly min: number;
  readonly max: number; // Infinity for + and *
}

export const unsupported = new Set<string>();

function parseClass(src: string, i: number): { chars: string; next: number } {
  // src[i] === '['
  let j = i + 1;
  let negate = false;
  if (src[j] === '^') {
    negate = true;
    j++;
  }
  const ranges: [number, number][] = [];
  const readChar = (): number => {
    if (src[j] === '\\') {
      const e = src[j + 1]!;
      if (e === 'x') {
        const code = parseInt(src.slice(j + 2, j + 4), 16);
        j += 4;
        return code;
      }
      j += 2;
      return e.charCodeAt(0);
    }
    return src.charCodeAt(j++);
  };
  while (j < src.length && src[j] !== ']') {
    const lo = readChar();
    if (src[j] === '-' && src[j + 1] !== ']' && j + 1 < src.length) {
      j++;
      ranges.push([lo, readChar()]);
    } else ranges.push([lo, lo]);
  }
  let chars = '';
  if (negate) {
    for (let c = 0x21; c < 0x7f; c++) if (!ranges.some(([a, b]) => c >= a && c <= b)) chars += String.fromCharCode(c);
  } else for (const [a, b] of ranges) for (let c = a; c <= b; c++) chars += String.fromCharCode(c);
  return { chars, next: j + 1 };
}

/** The pattern as a list of atoms, or null when it uses more than this generator reads. */
export function parsePattern(pattern: string): Atom[] | null {
  let src = pattern;
  if (!src.startsWith('^') || !src.endsWith('$') || src.endsWith('\\$')) return null;
  src = src.slice(1, -1);
  if (/[|()]/.test(src)) return null;
  const atoms: Atom[] = [];
  let i = 0;
  while (i < src.length) {
    let chars: string;
    if (src[i] === '[') {
      const c = parseClass(src, i);
      chars = c.chars;
      i = c.next;
    } else if (src[i] === '\\') {
      const e = src[i + 1]!;
      if (e === 'd') chars = '0123456789';
      else if (/[A-Za-z]/.test(e)) return null; // \w, \s, ...: not needed by the protocol
      else chars = e;
      i += 2;
    } else if (src[i] === '.') {
      return null;
    } else {
      chars = src[i]!;
      i++;
    }
    let min = 1;
    let max = 1;
    const q = src[i];
    if (q === '+') [min, max, i] = [1, Infinity, i + 1];
    else if (q === '*') [min, max, i] = [0, Infinity, i + 1];
    else if (q === '?') [min, max, i] = [0, 1, i + 1];
    else if (q === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i));
      if (!m) return null;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      i += m[0].length;
    }
    if (chars.length === 0) return null;
    atoms.push({ chars, min, max });
  }
  return atoms;
}

/** A string that fits `pattern` (if readable) with a length in [minLength, maxLength], short by preference. */
export function stringFor(r: Rand, s: Schema): string {
  const minLen = s.minLength ?? 0;
  const maxLen = s.maxLength ?? Math.max(minLen, 64);
  if (s.format === 'date-time') return new Date(Date.UTC(2026, 0, 1) + int(r, 1e10)).toISOString();
  const atoms = s.pattern === undefined ? [{ chars: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_ ', min: 0, max: Infinity }] : parsePattern(s.pattern);
  if (atoms === null) {
    unsupported.add(s.pattern!);
    return 'a'.repeat(Math.max(1, minLen));
  }
  const sumMin = atoms.reduce((n, a) => n + a.min, 0);
  const sumMax = atoms.reduce((n, a) => n + a.max, 0);
  const lo = Math.max(minLen, sumMin);
  const hi = Math.min(maxLen, sumMax, lo + 48);
  if (lo > hi) {
    unsupported.add(s.pattern ?? `length ${minLen}-${maxLen}`);
    return 'a'.repeat(Math.max(1, minLen));
  }
  const target = between(r, lo, hi);
  const counts = atoms.map((a) => a.min);
  let extra = target - sumMin;
  // Spread the extra length over the atoms that can take it.
  for (let guard = 0; extra > 0 && guard < 100_000; guard++) {
    const k = int(r, atoms.length);
    if (counts[k]! < atoms[k]!.max) {
      counts[k]!++;
      extra--;
    }
  }
  let out = '';
  atoms.forEach((a, k) => {
    for (let n = 0; n < counts[k]!; n++) out += a.chars[int(r, a.chars.length)]!;
  });
  return out;
}

function numberFor(r: Rand, s: Schema, integer: boolean): number {
  const lo = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : -1000);
  const hi = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : Math.max(lo, 0) + 1000);
  if (integer) return between(r, Math.ceil(lo), Math.floor(Math.min(hi, lo + 1e12)));
  return lo + r() * (Math.min(hi, lo + 1e12) - lo);
}

/** `key` is the property name (or null), `path` the JSON path of the value ('' for the root). */
export type Override = (key: string | null, path: string, schema: Schema) => Json | undefined;

/** A value that fits `s` (as far as the override keeps it so). */
export function valueFor(r: Rand, s: Schema, override: Override = () => undefined, key: string | null = null, path = ''): Json {
  const o = override(key, path, s);
  if (o !== undefined) return o;
  if (s.const !== undefined) return s.const;
  if (s.enum !== undefined) return pick(r, s.enum);
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return valueFor(r, pick(r, alts), override, key, path);
  const type = Array.isArray(s.type) ? pick(r, s.type) : s.type;
  switch (type) {
    case 'object': {
      const out: Record<string, Json> = {};
      const required = new Set(s.required ?? []);
      for (const [k, ps] of Object.entries(s.properties ?? {})) {
        if (required.has(k) || chance(r, 0.5)) out[k] = valueFor(r, ps, override, k, `${path}/${k}`);
      }
      return out;
    }
    case 'array': {
      const min = s.minItems ?? 0;
      const max = Math.min(s.maxItems ?? min + 3, min + 3);
      const n = between(r, min, Math.max(min, max));
      return Array.from({ length: n }, (_v, i) => valueFor(r, s.items ?? {}, override, key, `${path}/${i}`));
    }
    case 'string':
      return stringFor(r, s);
    case 'integer':
      return numberFor(r, s, true);
    case 'number':
      return numberFor(r, s, false);
    case 'boolean':
      return chance(r, 0.5);
    case 'null':
      return null;
    default:
      return stringFor(r, { minLength: 1, maxLength: 8 });
  }
}

/** The JSON type of a schema, as the mutations see it (to pick a value of another type). */
export function jsonTypeOf(s: Schema): string | undefined {
  if (s.const !== undefined) return typeof s.const;
  if (s.enum !== undefined) return typeof s.enum[0];
  const t = Array.isArray(s.type) ? s.type[0] : s.type;
  return t === 'integer' ? 'number' : t;
}
