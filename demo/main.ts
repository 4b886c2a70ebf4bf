/// <reference types="vite/client" />
/**
 * The demo page. Two ways to run, chosen by what the page finds at load:
 *
 * - With the demo's site backend (`npm start`: demo/site-backend.ts at /demo-site/, beside the
 *   verification server): the main mode. The site signs the person in by name (a stand-in for a
 *   real login), opens a session on the server for each action, and hands the page only the
 *   session id; <face-login session> guides the person through the server's challenge and uploads
 *   the frames; the server decides; the site's backend reads the result and this page shows what
 *   the site was told.
 * - Without it (`npm run demo`, a static build): offline, everything decided in this browser.
 */
import '../src/index.js';
import type { FaceLoginElement } from '../src/index.js';
import { readResult, site } from './site-client.js';

const fl = document.querySelector<FaceLoginElement>('#fl')!;
const form = document.querySelector<HTMLFormElement>('#who')!;
const user = document.querySelector<HTMLInputElement>('#user')!;
const result = document.querySelector<HTMLOutputElement>('#result')!;
const backend = document.querySelector<HTMLParagraphElement>('#backend')!;
const users = document.querySelector<HTMLUListElement>('#users')!;
const usersSection = document.querySelector<HTMLElement>('#users-section')!;
const signedIn = document.querySelector<HTMLParagraphElement>('#signed-in')!;
const signIn = document.querySelector<HTMLButtonElement>('#sign-in')!;

const params = new URLSearchParams(location.search);
for (const attr of ['backend', 'offline', 'threshold', 'db-name', 'lang'] as const) {
  const v = params.get(attr);
  if (v) fl.setAttribute(attr, v);
}

// The name is kept across reloads (this browser only).
const NAME_KEY = 'face-login-demo:name';
try {
  user.value = localStorage.getItem(NAME_KEY) || user.value;
} catch {
  /* storage blocked: keep the default */
}

type Mode = 'enroll' | 'verify' | 'identify';
const modeOf = (): Mode => ((new FormData(form).get('mode') as Mode | null) ?? 'enroll');
const nameOf = (): string => user.value.trim();

function show(outcome: 'accepted' | 'rejected' | 'none', text: string): void {
  result.dataset.outcome = outcome;
  result.textContent = text;
}

/** What the element last said to the person (a sentence, not the developer message). */
let lastSentence = '';
fl.addEventListener('face-login-status', (e) => {
  lastSentence = e.detail.message;
});

void site('GET', 'me').then(
  (me) => (me.status === 200 && me.body?.available === true ? runWithServer(me.body.user as string | null) : runOffline()),
  () => runOffline(),
);

/** The main mode: sessions opened by the demo's site backend, decided by the server. */
function runWithServer(initialUser: string | null): void {
  document.body.dataset.mode = 'server';
  usersSection.hidden = true;
  signedIn.hidden = false;
  document.querySelector('.lead')!.textContent =
    'Faces are checked by the verification server: this page sends it the pictures of the challenge the server asked for ' +
    '(turn your head, or the five poses to enrol), the server decides, and this site\'s backend reads the decision. ' +
    'The page is never told a score. Enrol your face under your name, then log in with it.';
  /** Who the site has signed in. */
  let current = initialUser;
  const say = (who: string | null) => {
    current = who;
    signedIn.textContent = who ? `This site has you signed in as "${who}".` : 'You are not signed in on this site.';
  };
  say(initialUser);
  signIn.addEventListener('click', async () => {
    const name = nameOf();
    const s = await site('POST', 'sign-in', { name });
    if (s.status !== 200) return show('rejected', s.body?.error?.message ?? 'The site could not sign you in.');
    say(name);
    show('none', `Signed in as "${name}" (this demo site asks for no password). Now enrol your face.`);
    void prepare();
  });

  let preparing = 0;
  /** Opens a session for what the form says and gives its id to the element. */
  async function prepare(): Promise<void> {
    const ticket = ++preparing;
    const mode = modeOf();
    const name = nameOf();
    fl.mode = mode;
    // What the element's session is for (tests wait for it), cleared while a new one is opened.
    delete document.body.dataset.session;
    if (mode !== 'identify' && !name) {
      fl.session = '';
      return;
    }
    // Enrolment is for someone the site has signed in (here: by name, the demo's stand-in for a password).
    signIn.hidden = mode !== 'enroll' || current === name;
    if (mode === 'enroll' && current !== name) {
      fl.session = '';
      show('none', `Sign in as "${name}" first: the site enrols a face only for someone it has signed in.`);
      return;
    }
    const opened = await site('POST', 'sessions', mode === 'verify' ? { action: mode, userId: name } : { action: mode });
    if (ticket !== preparing) return;
    if (opened.status !== 200) {
      show('rejected', opened.body?.error?.message ?? 'The site could not open a session.');
      return;
    }
    fl.server = opened.body.server;
    fl.session = opened.body.sessionId;
    document.body.dataset.session = mode === 'identify' ? mode : `${mode}:${name}`;
  }

  const REFUSALS: Record<string, string> = {
    'duplicate-enrollment': 'This face is already enrolled under another name.',
    'unknown-user': 'This name is not enrolled yet: enrol first.',
    'locked-out': 'Too many tries for this name: wait a few minutes and try again.',
    internal: 'Something went wrong on the server. Try again.',
  };

  fl.addEventListener('face-login-submitted', async (e) => {
    const { sessionId, action } = e.detail;
    show('none', 'Sent. The site is reading the server\'s decision…');
    const r = await readResult(sessionId);
    if (r.error) show('rejected', r.error.message ?? 'The site could not read the result.');
    else if (r.state === 'refused') show('rejected', REFUSALS[r.refusal] ?? lastSentence);
    else if (action === 'enroll') {
      show('accepted', `Enrolled "${r.userId}" on the server (decided by the server, liveness ${r.liveness}). Now choose "Log in".`);
      (form.querySelector('input[value="verify"]') as HTMLInputElement).checked = true;
    } else if (r.decision === 'accept') {
      show('accepted', action === 'identify' ? `You are ${r.userId} (decided by the server).` : `Welcome, ${r.userId}! (decided by the server)`);
    } else {
      show('rejected', action === 'identify' ? 'Unknown person (decided by the server).' : `Not ${r.userId} (decided by the server).`);
    }
    if (r.signedIn !== undefined) say(r.signedIn);
    void prepare();
  });
  fl.addEventListener('face-login-error', (e) => {
    show('rejected', lastSentence || e.detail.message);
    // A session the server has used up cannot be tried again: the site opens a new one.
    if (e.detail.retryable === false) void prepare();
  });
  fl.addEventListener('face-login-ready', (e) => {
    backend.textContent = `Backend ${e.detail.backend} (${e.detail.backendReason}), ready in ${Math.round(e.detail.loadMs)} ms. The verification server decides.`;
  });

  let timer: ReturnType<typeof setTimeout> | undefined;
  form.addEventListener('input', () => {
    try {
      localStorage.setItem(NAME_KEY, nameOf());
    } catch {
      /* storage blocked */
    }
    clearTimeout(timer);
    timer = setTimeout(() => void prepare(), 300);
  });
  void prepare();
}

/** Offline: the device decides; templates stay in this browser's IndexedDB. */
function runOffline(): void {
  document.body.dataset.mode = 'device';
  // The demo shows the similarity next to each decision, as a calibration page would: it opts in.
  fl.exposeScores = true;
  const sync = (): void => {
    fl.mode = modeOf();
    fl.userId = nameOf();
    try {
      localStorage.setItem(NAME_KEY, nameOf());
    } catch {
      /* storage blocked */
    }
  };
  form.addEventListener('input', sync);
  sync();

  async function refreshUsers(): Promise<void> {
    const list = (await fl.engine?.store.listUsers()) ?? [];
    if (list.length === 0) {
      const li = document.createElement('li');
      li.className = 'placeholder';
      li.textContent = 'Nobody yet: enrol your face above.';
      users.replaceChildren(li);
      return;
    }
    users.replaceChildren(
      ...list.map((u) => {
        const li = document.createElement('li');
        li.textContent = u.userId;
        const del = document.createElement('button');
        del.type = 'button';
        del.textContent = 'Delete';
        del.addEventListener('click', async () => {
          await fl.engine?.store.deleteUser(u.userId);
          await refreshUsers();
        });
        li.append(del);
        return li;
      }),
    );
  }

  const similarity = (d: { score?: number; threshold?: number }) =>
    `decided on this device: similarity ${d.score?.toFixed(3)}, needs ${d.threshold?.toFixed(3)}`;
  fl.addEventListener('face-login-ready', (e) => {
    const d = e.detail;
    backend.textContent = `Backend ${d.backend} (${d.backendReason}), ready in ${Math.round(d.loadMs)} ms, threshold ${d.threshold.toFixed(3)}.`;
    void refreshUsers();
  });
  fl.addEventListener('face-login-enrolled', (e) => {
    show('accepted', `Enrolled "${e.detail.userId}" (${e.detail.templates} templates, on this device). Now choose "Log in".`);
    (form.querySelector('input[value="verify"]') as HTMLInputElement).checked = true;
    sync();
    void refreshUsers();
  });
  fl.addEventListener('face-login-verified', (e) => show('accepted', `Welcome, ${e.detail.userId}! (${similarity(e.detail)})`));
  fl.addEventListener('face-login-identified', (e) => show('accepted', `You are ${e.detail.userId} (${similarity(e.detail)}).`));
  fl.addEventListener('face-login-rejected', (e) => {
    const who = e.detail.userId === null ? 'Unknown person' : `Not ${e.detail.userId}`;
    show('rejected', `${who} (${similarity(e.detail)}).`);
  });
  fl.addEventListener('face-login-error', (e) => show('rejected', lastSentence || e.detail.message));
}
