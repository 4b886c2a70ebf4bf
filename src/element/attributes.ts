import type { BackendPreference } from '../adapters/embedder/tf-backend.js';
import type { DetectorChoice } from '../face-auth.js';
import type { LivenessMode } from '../core/liveness.js';
import type { FaceLoginElement } from './face-login.component.js';
import type { FaceLoginMode } from './events.js';

/**
 * The attributes of <face-login> as a page writes them in a template (JSX, lit-html, Vue's
 * kebab-case): the same set custom-elements.json lists, the closed sets typed as their values.
 * tests/unit/framework-types.test.ts keeps this list equal to the manifest's.
 */
export interface FaceLoginAttributes {
  mode?: FaceLoginMode;
  session?: string;
  'user-id'?: string;
  /** A number: frameworks that set properties (React 19, Vue) would hand a string to the property. */
  threshold?: number;
  server?: string;
  backend?: BackendPreference;
  /** @deprecated Use `backend`. */
  compute?: BackendPreference;
  detector?: DetectorChoice;
  offline?: 'allow' | 'deny';
  guided?: boolean;
  liveness?: LivenessMode;
  continuous?: boolean;
  cooldown?: number;
  autostart?: boolean;
  camera?: string;
  'asset-base'?: string;
  'models-url'?: string;
  'wasm-url'?: string;
  'db-name'?: string;
  lang?: string;
  'expose-scores'?: boolean;
}

/** The element properties behind those attributes (what Vue and @lit/react set), by property name. */
export type FaceLoginProperty =
  | 'mode'
  | 'session'
  | 'userId'
  | 'threshold'
  | 'server'
  | 'backend'
  | 'compute'
  | 'detector'
  | 'offline'
  | 'guided'
  | 'liveness'
  | 'continuous'
  | 'cooldown'
  | 'autostart'
  | 'camera'
  | 'assetBase'
  | 'modelsUrl'
  | 'wasmUrl'
  | 'dbName'
  | 'lang'
  | 'exposeScores';

/** The settable properties, typed as the attributes are (`backend`'s closed set, not the field's `string`). */
export type FaceLoginProperties = Pick<FaceLoginElement, FaceLoginProperty> & {
  backend: BackendPreference | '';
  compute: BackendPreference | '';
  detector: DetectorChoice | '';
};
