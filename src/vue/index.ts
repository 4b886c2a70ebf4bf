/**
 * face-login/vue (types only): `<face-login>` in Vue templates, through Vue's GlobalComponents,
 * with the element's properties and its events typed (`@face-login-verified="(e) => ..."` gets a
 * CustomEvent<FaceLoginVerifiedDetail>). Load it once, e.g. in env.d.ts:
 * `import type {} from 'face-login/vue'`. The element itself is registered by `import 'face-login'`;
 * tell Vue's compiler it is a custom element (compilerOptions.isCustomElement).
 *
 * The shape is the one Vue's guide gives for custom elements not built with Vue: a constructor
 * whose `$props` and `$emit` are what the template checks.
 */
import type { EmitFn, HTMLAttributes } from 'vue';
import type { FaceLoginProperties } from '../element/attributes.js';
import type { FaceLoginElement } from '../element/face-login.component.js';
import type { FaceLoginEventMap } from '../element/events.js';

export type * from '../element/events.js';
export type { FaceLoginProperties } from '../element/attributes.js';

/** `onFaceLoginVerified`-style props: what Vue makes of `@face-login-verified` (camelised, "on" in front). */
type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;
export type FaceLoginVueEventProps = {
  [K in keyof FaceLoginEventMap as `on${Capitalize<CamelCase<K>>}`]?: (event: FaceLoginEventMap[K]) => void;
};

/** The props a Vue template may give <face-login>: its properties (user-id / userId, ...), its events, the HTML attributes. */
export type FaceLoginVueProps = HTMLAttributes & Partial<FaceLoginProperties> & FaceLoginVueEventProps;

export type FaceLoginVueComponent = new () => FaceLoginElement & {
  /** @deprecated For template type checking only: not a property of the element. */
  $props: FaceLoginVueProps;
  /** @deprecated For template type checking only: not a property of the element. */
  $emit: EmitFn<{ [K in keyof FaceLoginEventMap]: (event: FaceLoginEventMap[K]) => void }>;
};

declare module 'vue' {
  interface GlobalComponents {
    'face-login': FaceLoginVueComponent;
  }
}
