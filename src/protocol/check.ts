/**
 * The page's check of a server answer against the route's schema: TypeBox's `Value.Check`, an
 * interpreter (no `new Function`, so it runs under a CSP without 'unsafe-eval'; the TypeBox
 * compiler would not). `Check` refuses a string whose `format` it has no checker for, so every
 * format the protocol uses is registered here (tests/unit/protocol.test.ts walks the schemas).
 */
import { FormatRegistry, type Static, type TSchema } from '@sinclair/typebox';
import { Check } from '@sinclair/typebox/value';

const DATE = /^(\d\d\d\d)-(\d\d)-(\d\d)$/;
const TIME = /^(\d\d):(\d\d):(\d\d(?:\.\d+)?)(z|([+-])(\d\d)(?::?(\d\d))?)?$/i;
const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** RFC 3339 date-time with a time zone, as the server's Ajv reads it (ajv-formats' full `date-time`). */
function dateTime(value: string): boolean {
  const parts = value.split(/t|\s/i);
  if (parts.length !== 2) return false;
  const d = DATE.exec(parts[0]!);
  const t = TIME.exec(parts[1]!);
  if (!d || !t || !t[4]) return false;
  const [year, month, day] = [+d[1]!, +d[2]!, +d[3]!];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (month < 1 || month > 12 || day < 1 || day > (month === 2 && leap ? 29 : DAYS[month]!)) return false;
  const [hr, min, sec] = [+t[1]!, +t[2]!, +t[3]!];
  const sign = t[5] === '-' ? -1 : 1;
  const [tzH, tzM] = [+(t[6] ?? 0), +(t[7] ?? 0)];
  if (tzH > 23 || tzM > 59) return false;
  if (hr <= 23 && min <= 59 && sec < 60) return true;
  // A leap second: 23:59:60 in UTC.
  const utcMin = min - tzM * sign;
  const utcHr = hr - tzH * sign - (utcMin < 0 ? 1 : 0);
  return (utcHr === 23 || utcHr === -1) && (utcMin === 59 || utcMin === -1) && sec < 61;
}

/** The `format`s the protocol's schemas use, each with its checker. */
export const FORMATS: Readonly<Record<string, (value: string) => boolean>> = { 'date-time': dateTime };

function registerFormats(): void {
  for (const [name, check] of Object.entries(FORMATS)) if (!FormatRegistry.Has(name)) FormatRegistry.Set(name, check);
}

/** True when `value` fits `schema` (and is then typed as its Static). */
export function fits<S extends TSchema>(schema: S, value: unknown): value is Static<S> {
  registerFormats();
  return Check(schema, value);
}
