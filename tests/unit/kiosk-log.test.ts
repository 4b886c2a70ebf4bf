import { describe, expect, it } from 'vitest';
import { csvField, csvFileName, dayOf, emptyLog, loadDay, localIso, saveDay, storageKey, summary, toCsv, type DayLog } from '../../demo/kiosk-log.js';

function memoryStorage(initial: Record<string, string> = {}) {
  const m = new Map(Object.entries(initial));
  return {
    map: m,
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, v),
    removeItem: (k: string) => void m.delete(k),
  };
}

const log = (arrivals: DayLog['arrivals'], day = '2026-12-02'): DayLog => ({ version: 1, day, arrivals });

describe('the kiosk day log (demo/kiosk-log.ts)', () => {
  it('writes local time as ISO 8601 with the UTC offset, and the local day', () => {
    const d = new Date(2026, 11, 2, 9, 5, 7);
    const iso = localIso(d);
    expect(iso).toMatch(/^2026-12-02T09:05:07[+-]\d\d:\d\d$/);
    expect(new Date(iso).getTime()).toBe(d.getTime());
    expect(dayOf(d)).toBe('2026-12-02');
  });

  it('keeps today across a reload and starts a new day empty (the old one removed)', () => {
    const key = storageKey('face-login');
    const s = memoryStorage();
    const today = log([{ time: '2026-12-02T09:00:00+00:00', userId: 'colin', name: 'colin', decidedBy: 'device' }]);
    expect(saveDay(s, key, today)).toBe(true);
    expect(loadDay(s, key, '2026-12-02')).toEqual(today);
    expect(loadDay(s, key, '2026-12-03')).toEqual(emptyLog('2026-12-03'));
    expect(s.map.has(key)).toBe(false);
  });

  it('drops unreadable logs and malformed rows, and anything a row should not carry', () => {
    const key = storageKey('x');
    expect(loadDay(memoryStorage({ [key]: '{not json' }), key, '2026-12-02')).toEqual(emptyLog('2026-12-02'));
    const stored = {
      version: 1,
      day: '2026-12-02',
      arrivals: [
        { time: 't1', userId: null, name: null, decidedBy: 'device', score: 0.3, embedding: [1, 2] },
        { time: 't2', userId: 'a', name: null, decidedBy: 'device' },
        { time: 't3', userId: 'a', name: 'A', decidedBy: 'elsewhere' },
        'junk',
      ],
    };
    expect(loadDay(memoryStorage({ [key]: JSON.stringify(stored) }), key, '2026-12-02').arrivals).toEqual([{ time: 't1', userId: null, name: null, decidedBy: 'device' }]);
  });

  it('survives blocked or full storage', () => {
    const throwing = { getItem: () => { throw new Error('blocked'); }, setItem: () => { throw new Error('full'); }, removeItem: () => { throw new Error('blocked'); } };
    expect(loadDay(throwing, 'k', '2026-12-02')).toEqual(emptyLog('2026-12-02'));
    expect(saveDay(throwing, 'k', emptyLog('2026-12-02'))).toBe(false);
  });

  it('counts people present (distinct) and unknown visitors (each one)', () => {
    const l = log([
      { time: 't1', userId: 'colin', name: 'colin', decidedBy: 'device' },
      { time: 't2', userId: null, name: null, decidedBy: 'device' },
      { time: 't3', userId: 'colin', name: 'colin', decidedBy: 'device' },
      { time: 't4', userId: 'tony', name: 'tony', decidedBy: 'server' },
      { time: 't5', userId: null, name: null, decidedBy: 'device' },
    ]);
    expect(summary(l)).toEqual({ present: 2, unknown: 2 });
  });

  it('quotes CSV fields as RFC 4180 says and defuses spreadsheet formulas', () => {
    expect(csvField('colin')).toBe('colin');
    expect(csvField('Powell, Colin')).toBe('"Powell, Colin"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(' padded')).toBe('" padded"');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('@me')).toBe("'@me");
    expect(csvField('张伟')).toBe('张伟');
  });

  it('writes the day as CSV: a header, then the rows oldest first, CRLF', () => {
    const l = log([
      { time: '2026-12-02T09:00:00+01:00', userId: 'colin', name: 'colin', decidedBy: 'device' },
      { time: '2026-12-02T09:01:00+01:00', userId: null, name: null, decidedBy: 'device' },
      { time: '2026-12-02T09:02:00+01:00', userId: 'b', name: 'Blair, "Tony"', decidedBy: 'server' },
    ]);
    expect(toCsv(l)).toBe(
      'time,name,decided_by\r\n' +
        '2026-12-02T09:00:00+01:00,colin,device\r\n' +
        '2026-12-02T09:01:00+01:00,unknown visitor,device\r\n' +
        '2026-12-02T09:02:00+01:00,"Blair, ""Tony""",server\r\n',
    );
    expect(toCsv(emptyLog('2026-12-02'))).toBe('time,name,decided_by\r\n');
    expect(csvFileName(l)).toBe('attendance-2026-12-02.csv');
  });
});
