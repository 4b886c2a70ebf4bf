import type { DetailedHTMLProps, HTMLAttributes } from 'react';
import type { FaceLoginAttributes } from '../element/attributes.js';
import type { FaceLoginElement } from '../element/face-login.component.js';
import type { FaceLoginEventMap } from '../element/events.js';

/**
 * React 19 adds a listener for a custom element's `on<event name>` prop as written
 * (`onface-login-verified` listens to face-login-verified), typed here from FaceLoginEventMap.
 */
export type FaceLoginJsxEventProps = {
  [K in keyof FaceLoginEventMap as `on${K}`]?: (event: FaceLoginEventMap[K]) => void;
};

/** The props of `<face-login>` in JSX: React's HTML props, the element's attributes, its events, a ref to the element. */
export type FaceLoginJsxProps = DetailedHTMLProps<HTMLAttributes<FaceLoginElement>, FaceLoginElement> & FaceLoginAttributes & FaceLoginJsxEventProps;

declare module 'react' {
  // React 19 reads intrinsic elements from React.JSX (the global JSX namespace is gone).
  namespace JSX {
    interface IntrinsicElements {
      'face-login': FaceLoginJsxProps;
    }
  }
}
