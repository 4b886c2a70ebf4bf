/// <reference types="vite/client" />
import '../src/index.js';
import type { FaceLoginElement } from '../src/index.js';

const fl = document.querySelector<FaceLoginElement>('#fl')!;
const form = document.querySelector<HTMLFormElement>('#who')!;
const user = document.querySelector<HTMLInputElement>('#user')!;
const result = document.querySelector<HTMLOutputElement>('#result')!;
const backend = document.querySelector<HTMLParagraphElement>('#backend')!;
const users = document.querySelector<HTMLUListElement>('#users')!;

const params = new URLSearchParams(location.search);
for (const attr of ['server', 'backend', 'offline', 'threshold', 'db-name', 'lang'] as const) {
  const v = params.get(attr);
  if (v) fl.setAttribute(attr, v);
}

// `npm start` (scripts/start.mjs) runs the verification server beside the demo and passes its URL
// here; the page's CSP connect-src allows exactly that origin (vite.config.ts). Without it the
// demo is the offline one: everything is decided in this browser.
const server = import.meta.env.VITE_FACE_LOGIN_SERVER as string | undefined;
if (server && !params.has('server')) fl.setAttribute('server', server);
const serverUrl = fl.getAttribute('server') || null;
if (serverUrl) {
  document.querySelector('.lead')!.textContent =
    `Faces are checked by the verification server at ${serverUrl}: this page sends it a face embedding (192 numbers, never a picture) and gets a decision back, never a score. Enroll your face under a name, then log in with it.`;
}
const decided = (d: { decidedBy: 'device' | 'server'; score?: number }) =>
  d.decidedBy === 'server' ? 'decided by the server' : `similarity ${d.score?.toFixed(3)}`;

function sync(): void {
  const mode = (new FormData(form).get('mode') as string) ?? 'enroll';
  fl.mode = mode as FaceLoginElement['mode'];
  fl.userId = user.value.trim();
}
form.addEventListener('input', sync);
sync();

function show(outcome: 'accepted' | 'rejected' | 'none', text: string): void {
  result.dataset.outcome = outcome;
  result.textContent = text;
}

async function refreshUsers(): Promise<void> {
  const list = (await fl.engine?.store.listUsers()) ?? [];
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

fl.addEventListener('face-login-ready', (e) => {
  const d = e.detail;
  backend.textContent =
    `Backend ${d.backend} (${d.backendReason}), ready in ${Math.round(d.loadMs)} ms, threshold ${d.threshold.toFixed(3)}.` +
    (serverUrl ? ` Verification server: ${serverUrl}.` : '');
  void refreshUsers();
});
fl.addEventListener('face-login-enrolled', (e) => {
  show('accepted', `Enrolled "${e.detail.userId}" (${e.detail.templates} templates${serverUrl ? ', on the server and this device' : ''}). Now choose "Log in".`);
  (form.querySelector('input[value="verify"]') as HTMLInputElement).checked = true;
  sync();
  void refreshUsers();
});
fl.addEventListener('face-login-verified', (e) => {
  show('accepted', `Welcome, ${e.detail.userId}! (${decided(e.detail)})`);
});
fl.addEventListener('face-login-identified', (e) => {
  show('accepted', `You are ${e.detail.userId} (${decided(e.detail)}).`);
});
fl.addEventListener('face-login-rejected', (e) => {
  const who = e.detail.userId === null ? 'Unknown person' : `Not ${e.detail.userId}`;
  const why = e.detail.decidedBy === 'server' ? decided(e.detail) : `similarity ${e.detail.score?.toFixed(3)}, needs ${e.detail.threshold?.toFixed(3)}`;
  show('rejected', `${who} (${why}).`);
});
fl.addEventListener('face-login-error', (e) => {
  show('rejected', `Error ${e.detail.code}: ${e.detail.message}`);
});
