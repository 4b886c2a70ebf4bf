/**
 * The attendance kiosk's day log (demo/kiosk.ts): one row per announcement of the element, kept
 * in localStorage for the current local day only, and written out as CSV. Pure functions, no DOM,
 * so they are unit-tested (tests/unit/kiosk-log.test.ts).
 *
 * A row holds the time, who (an enrolled user's id and name, or null for an unknown visitor) and
 * who decided (device or server). Nothing else: no score, no picture, no embedding; for an unknown
 * visitor nothing but the time.
 */

export interface Arrival {
  /** Local time, ISO 8601 with the UTC offset (e.g. 2026-12-02T09:15:03+01:00). */
  time: string;
  /** The enrolled user, or null: an unknown visitor. */
  userId: string | null;
  /** What the list and the CSV show: the display name when the store has one, else the user id; null for an unknown visitor. */
  name: string | null;
  decidedBy: 'device' | 'server';
}

export interface DayLog {
  version: 1;
  /** Local date, YYYY-MM-DD. */
  day: string;
  /** Oldest first. */
  arrivals: Arrival[];
}

/** The localStorage key: one log per template database, so two galleries on one device keep apart. */
export const storageKey = (dbName: string) => `face-login-kiosk:${dbName}`;

const pad = (n: number, width = 2) => String(Math.abs(Math.trunc(n))).padStart(width, '0');

/** Local time as ISO 8601 with its UTC offset, to the second. */
export function localIso(d: Date): string {
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  return (
    `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` +
    `${sign}${pad(Math.abs(offset) / 60)}:${pad(Math.abs(offset) % 60)}`
  );
}

/** The local date, YYYY-MM-DD. */
export const dayOf = (d: Date) => localIso(d).slice(0, 10);

export const emptyLog = (day: string): DayLog => ({ version: 1, day, arrivals: [] });

function isArrival(a: unknown): a is Arrival {
  if (!a || typeof a !== 'object') return false;
  const r = a as Record<string, unknown>;
  return (
    typeof r.time === 'string' &&
    (r.userId === null || typeof r.userId === 'string') &&
    (r.name === null || typeof r.name === 'string') &&
    (r.userId === null) === (r.name === null) &&
    (r.decidedBy === 'device' || r.decidedBy === 'server')
  );
}

/**
 * Today's log from storage: a log of another day (or anything unreadable) is removed and an
 * empty log for `day` is returned.
 */
export function loadDay(storage: Pick<Storage, 'getItem' | 'removeItem'>, key: string, day: string): DayLog {
  let raw: string | null = null;
  try {
    raw = storage.getItem(key);
  } catch {
    return emptyLog(day);
  }
  if (raw === null) return emptyLog(day);
  try {
    const log = JSON.parse(raw) as Partial<DayLog>;
    if (log?.version === 1 && log.day === day && Array.isArray(log.arrivals)) {
      return { version: 1, day, arrivals: log.arrivals.filter(isArrival).map(({ time, userId, name, decidedBy }) => ({ time, userId, name, decidedBy })) };
    }
  } catch {
    // unreadable: start the day afresh
  }
  try {
    storage.removeItem(key);
  } catch {
    // storage blocked: nothing to remove
  }
  return emptyLog(day);
}

/** Writes the log; false when storage refused (full or blocked): the page keeps the list in memory. */
export function saveDay(storage: Pick<Storage, 'setItem'>, key: string, log: DayLog): boolean {
  try {
    storage.setItem(key, JSON.stringify(log));
    return true;
  } catch {
    return false;
  }
}

/** People present today (distinct enrolled users) and unknown visitors (each announcement counts). */
export function summary(log: DayLog): { present: number; unknown: number } {
  const people = new Set<string>();
  let unknown = 0;
  for (const a of log.arrivals) {
    if (a.userId === null) unknown++;
    else people.add(a.userId);
  }
  return { present: people.size, unknown };
}

export const UNKNOWN_VISITOR = 'unknown visitor';
export const CSV_HEADER = ['time', 'name', 'decided_by'] as const;

/**
 * One CSV field (RFC 4180): quoted when it holds a quote, comma, CR or LF, or starts or ends with
 * a space, quotes doubled. A value that a spreadsheet would run as a formula (starting with
 * = + - @, tab or CR) is prefixed with an apostrophe first (names are typed by whoever enrolled).
 */
export function csvField(value: string): string {
  let v = value;
  if (/^[=+\-@\t\r]/.test(v)) v = `'${v}`;
  return /[",\r\n]|^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** The day as CSV: a header row, then one row per arrival, oldest first, CRLF line ends. */
export function toCsv(log: DayLog): string {
  const rows = [CSV_HEADER.join(','), ...log.arrivals.map((a) => [a.time, a.name ?? UNKNOWN_VISITOR, a.decidedBy].map(csvField).join(','))];
  return `${rows.join('\r\n')}\r\n`;
}

export const csvFileName = (log: DayLog) => `attendance-${log.day}.csv`;
