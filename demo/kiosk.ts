/// <reference types="vite/client" />
/**
 * The attendance kiosk: `<face-login mode="identify" continuous>` filling the screen, and a live
 * list of today's arrivals. One row per announcement the element makes: face-login-identified
 * (the person's name and the time) and face-login-rejected with userId null (an unknown visitor:
 * the time only). Kept in localStorage for the local day (demo/kiosk-log.ts), so a reload keeps
 * the list and a new day starts an empty one; "Download CSV" writes the day out in the page.
 * People are enrolled on the demo page (./) of the same device: same IndexedDB `db-name`.
 *
 * Under `npm start` (the demo's site backend answers at /demo-site/) the kiosk runs the main mode
 * instead: the site backend opens one identify session after another, the element films the
 * server's head-turn challenge and uploads it, the server decides, and the site backend reads who
 * it was (or "unknown"); the same person is listed once per cooldown. People are then enrolled on
 * the server, through the demo page's sessions.
 */
import '../src/index.js';
import type { FaceLoginElement } from '../src/index.js';
import { readResult, site } from './site-client.js';
import { csvFileName, dayOf, emptyLog, loadDay, localIso, saveDay, storageKey, summary, toCsv, type DayLog } from './kiosk-log.js';

const $ = <T extends Element>(selector: string) => document.querySelector<T>(selector)!;
const fl = $<FaceLoginElement>('#fl');
const list = $<HTMLOListElement>('#arrivals');
const empty = $<HTMLParagraphElement>('#empty');
const placeholder = $<HTMLParagraphElement>('#placeholder');
const present = $<HTMLElement>('#present');
const unknown = $<HTMLElement>('#unknown');
const dayLabel = $<HTMLElement>('#day');
const fullscreen = $<HTMLButtonElement>('#fullscreen');
const csv = $<HTMLButtonElement>('#csv');

// The same query parameters as the demo page; `lang` is the element's (en, zh-CN): this page's
// own few words stay English.
const params = new URLSearchParams(location.search);
for (const attr of ['server', 'backend', 'offline', 'threshold', 'db-name', 'lang', 'cooldown'] as const) {
  const v = params.get(attr);
  if (v) fl.setAttribute(attr, v);
}
const server = import.meta.env.VITE_FACE_LOGIN_SERVER as string | undefined;
if (server && !params.has('server')) fl.setAttribute('server', server);
const serverUrl = fl.getAttribute('server') || null;
const dbName = fl.getAttribute('db-name') || 'face-login';

// The enrol links keep the database (and language) the kiosk uses.
const enrolQuery = new URLSearchParams([...params].filter(([k]) => ['db-name', 'lang', 'server', 'backend'].includes(k))).toString();
for (const a of document.querySelectorAll<HTMLAnchorElement>('a[href="./"]')) a.href = enrolQuery ? `./?${enrolQuery}` : './';

/** localStorage, or a stand-in when the browser blocks it (the list then lasts as long as the page). */
const storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> = (() => {
  try {
    return window.localStorage;
  } catch {
    const m = new Map<string, string>();
    return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v), removeItem: (k) => void m.delete(k) };
  }
})();
const key = storageKey(dbName);
let log: DayLog = loadDay(storage, key, dayOf(new Date()));
/** userId -> the name to show (the store's display name, else the id). */
let names = new Map<string, string>();

function render(): void {
  dayLabel.textContent = log.day;
  const s = summary(log);
  present.textContent = String(s.present);
  unknown.textContent = String(s.unknown);
  empty.hidden = log.arrivals.length > 0 || !placeholder.hidden;
  list.replaceChildren(
    ...log.arrivals
      .slice()
      .reverse()
      .map((a) => {
        const li = document.createElement('li');
        li.dataset.kind = a.userId === null ? 'unknown' : 'known';
        const time = document.createElement('time');
        time.dateTime = a.time;
        time.textContent = a.time.slice(11, 19);
        const who = document.createElement('span');
        who.className = 'who';
        who.textContent = a.name ?? 'Unknown visitor';
        li.append(time, who);
        return li;
      }),
  );
}

/** A new local day empties the list (at the first arrival, download or minute after midnight). */
function rollOver(now: Date): void {
  const day = dayOf(now);
  if (day === log.day) return;
  log = emptyLog(day);
  saveDay(storage, key, log);
  render();
}

function arrive(userId: string | null, decidedBy: 'device' | 'server'): void {
  const now = new Date();
  rollOver(now);
  log.arrivals.push({ time: localIso(now), userId, name: userId === null ? null : (names.get(userId) ?? userId), decidedBy });
  saveDay(storage, key, log);
  render();
}

// Only what the row needs is read from the event: never a score, and for a stranger nothing but the time.
fl.addEventListener('face-login-identified', (e) => arrive(e.detail.userId, e.detail.decidedBy));
fl.addEventListener('face-login-rejected', (e) => {
  if (e.detail.mode === 'identify' && e.detail.userId === null) arrive(null, e.detail.decidedBy);
});

/** The main mode: identify sessions opened by the demo's site backend, decided by the server. */
let sessionMode = false;
let modeKnown = false;
const cooldownMs = Math.max(0, Number(fl.getAttribute('cooldown') ?? 30)) * 1000;
/** When each person (null: an unknown visitor) was last listed: once per cooldown. */
const lastListed = new Map<string | null, number>();

let nextTimer: ReturnType<typeof setTimeout> | undefined;
/** Opens the next identify session and runs it (the element starts once it is ready). */
async function nextSession(delayMs = 0): Promise<void> {
  clearTimeout(nextTimer);
  nextTimer = setTimeout(async () => {
    const opened = await site('POST', 'sessions', { action: 'identify' }).catch(() => null);
    if (!opened || opened.status !== 200) return void nextSession(5000);
    fl.server = opened.body.server;
    fl.session = opened.body.sessionId;
    if (fl.engine) void fl.start();
  }, delayMs);
}

fl.addEventListener('face-login-submitted', async (e) => {
  if (!sessionMode) return;
  const id = e.detail.sessionId;
  const r = await readResult(id).catch(() => null);
  if (r && r.state === 'done') {
    const who: string | null = r.decision === 'accept' ? r.userId : null;
    const now = Date.now();
    if (now - (lastListed.get(who) ?? -Infinity) >= cooldownMs) {
      lastListed.set(who, now);
      arrive(who, 'server');
    }
  }
  void nextSession(2000);
});
fl.addEventListener('face-login-error', (e) => {
  if (!sessionMode) return;
  // A used-up session (a refused capture) needs a new one; otherwise try the same one again.
  if (e.detail.retryable === false) void nextSession(2000);
  else setTimeout(() => void fl.start(), 2000);
});

let started = false;
/** Starts the kiosk once somebody is enrolled (with a server, the server knows who is). */
async function startWhenEnrolled(): Promise<void> {
  // Nothing starts before the page knows which mode it runs in.
  if (!modeKnown) return;
  if (sessionMode) {
    if (!started && fl.session) {
      started = true;
      void fl.start();
    }
    return;
  }
  const store = fl.engine?.store;
  if (!store || started) return;
  const users = await store.listUsers().catch(() => []);
  names = new Map(users.map((u) => [u.userId, u.displayName || u.userId]));
  const nobody = users.length === 0 && !serverUrl;
  placeholder.hidden = !nobody;
  render();
  if (nobody || started) return;
  started = true;
  void fl.start();
}
fl.addEventListener('face-login-ready', () => {
  // An attendance kiosk: the camera is what the screen is for, and the operator's notice is the
  // consent (the element opens it only on an action or autostart): the preview runs from load,
  // the identify loop only once somebody is enrolled. A refusal shows when the loop starts.
  started = false; // a reloaded engine (changed attribute) starts idle
  // The loop's start() opens the camera itself; only an idle kiosk opens it for the preview (never both at once).
  void startWhenEnrolled().then(() => {
    if (!started) void fl.engine?.startCamera().catch(() => undefined);
  });
});
// Enrolled in another tab meanwhile: coming back here starts the kiosk.
window.addEventListener('focus', () => void startWhenEnrolled());
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') void startWhenEnrolled();
});

fullscreen.hidden = !document.fullscreenEnabled;
fullscreen.addEventListener('click', () => {
  const toggle = document.fullscreenElement ? document.exitFullscreen() : document.documentElement.requestFullscreen();
  toggle.catch((e: unknown) => console.warn(`Full screen: ${(e as Error)?.message ?? e}`));
});
document.addEventListener('fullscreenchange', () => {
  const on = document.fullscreenElement !== null;
  fullscreen.textContent = on ? 'Exit full screen' : 'Full screen';
  fullscreen.setAttribute('aria-pressed', String(on));
});

csv.addEventListener('click', () => {
  rollOver(new Date());
  // A byte-order mark so that spreadsheet programs read the UTF-8 names (e.g. Chinese) correctly.
  const url = URL.createObjectURL(new Blob(['\uFEFF', toCsv(log)], { type: 'text/csv;charset=utf-8' }));
  const a = Object.assign(document.createElement('a'), { href: url, download: csvFileName(log) });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
});

setInterval(() => rollOver(new Date()), 60_000);
render();

// With the demo's site backend (npm start), the server decides: one identify session after another.
void site('GET', 'me')
  .then((me) => {
    if (me.status !== 200 || me.body?.available !== true) return;
    sessionMode = true;
    document.body.dataset.mode = 'server';
    fl.removeAttribute('continuous');
    placeholder.hidden = true;
    render();
    void nextSession();
  })
  .catch(() => {})
  .finally(() => {
    modeKnown = true;
    if (!sessionMode) void startWhenEnrolled();
  });
