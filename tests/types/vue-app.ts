// What a Vue 3 app's templates see of <face-login> once it loads face-login/vue (GlobalComponents):
// the props a template may pass and the events it may listen to. Checked by tsc
// (tests/types/tsconfig.json); each @ts-expect-error must stay an error.
import type { GlobalComponents } from 'vue';
import type {} from 'face-login/vue';

declare function login(userId: string): void;

type FaceLoginInTemplate = InstanceType<GlobalComponents['face-login']>;
type Props = FaceLoginInTemplate['$props'];

// <face-login mode="verify" user-id="alice" :threshold="0.6" @face-login-verified="(e) => login(e.detail.userId)">
export const verify: Props = {
  mode: 'verify',
  userId: 'alice',
  threshold: 0.6,
  liveness: 'active',
  exposeScores: true,
  class: 'login',
  onFaceLoginVerified: (e) => login(e.detail.userId),
  onFaceLoginRejected: (e) => console.log(e.detail.mode, e.detail.userId),
  onFaceLoginError: (e) => console.warn(e.detail.code, e.detail.message),
};
export const kiosk: Props = { mode: 'identify', continuous: true, cooldown: 30, backend: 'wasm', onFaceLoginIdentified: (e) => login(e.detail.userId) };

// @ts-expect-error: "enrol" is not a mode
export const misspelt: Props = { mode: 'enrol' };
// @ts-expect-error: threshold is a number (:threshold="0.6"), not the string "0.6"
export const stringThreshold: Props = { threshold: '0.6' };
// @ts-expect-error: the detail of face-login-verified has no code
export const wrongDetail: Props = { onFaceLoginVerified: (e) => console.warn(e.detail.code) };

// $emit is what `@face-login-submitted` is checked against.
declare const el: FaceLoginInTemplate;
el.$emit('face-login-submitted', new CustomEvent('face-login-submitted', { detail: { sessionId: 's', action: 'verify' } }));
// @ts-expect-error: not an event of the element
el.$emit('face-login-verify', new CustomEvent('x'));
