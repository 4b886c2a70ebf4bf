/**
 * face-login/react: `<FaceLogin>`, a React component around <face-login> (@lit/react), with
 * typed event props, and the JSX types of the tag itself (`<face-login>` in React.JSX).
 * Importing it registers the element. React stays the page's own (an optional peer dependency).
 */
import * as React from 'react';
import { createComponent, type EventName } from '@lit/react';
import { FaceLoginElement } from '../element/face-login.js';
import type { FaceLoginProperties } from '../element/attributes.js';
import type { FaceLoginEventMap } from '../element/events.js';

export type * from './jsx.js';
export type * from '../element/events.js';
export type { FaceLoginAttributes, FaceLoginProperties } from '../element/attributes.js';
export { FaceLoginElement };

/** Which React prop listens to which event: `onVerified` to face-login-verified, and so on. */
const EVENT_PROPS = {
  onReady: 'face-login-ready',
  onProgress: 'face-login-progress',
  onEnrolled: 'face-login-enrolled',
  onVerified: 'face-login-verified',
  onIdentified: 'face-login-identified',
  onRejected: 'face-login-rejected',
  onError: 'face-login-error',
  onStatus: 'face-login-status',
  onSynced: 'face-login-synced',
  onCancelled: 'face-login-cancelled',
  onSubmitted: 'face-login-submitted',
} as const satisfies Record<string, keyof FaceLoginEventMap>;

type EventProps = typeof EVENT_PROPS;
/** Every event has a prop: an event added to FaceLoginEventMap without one fails to compile here. */
type NoneLeft<Unmapped extends never> = Unmapped;
type _EveryEventHasAProp = NoneLeft<Exclude<keyof FaceLoginEventMap, EventProps[keyof EventProps]>>;

/** The event props, each given the event its name stands for (the detail typed from FaceLoginEventMap). */
export type FaceLoginEventProps = { [P in keyof EventProps]?: (event: FaceLoginEventMap[EventProps[P]]) => void };

/**
 * The props of `<FaceLogin>`: the element's properties by their property names (`userId`,
 * `modelsUrl`, ...), the event props, and React's HTML props (whose `onError` / `onProgress` the
 * element's events replace).
 */
export type FaceLoginProps = Omit<React.HTMLAttributes<FaceLoginElement>, keyof FaceLoginEventProps | keyof FaceLoginProperties> &
  FaceLoginEventProps &
  Partial<FaceLoginProperties>;

/** `<FaceLogin mode="verify" userId="alice" onVerified={(e) => login(e.detail.userId)} />`; `ref` is the element. */
export const FaceLogin: React.ForwardRefExoticComponent<FaceLoginProps & React.RefAttributes<FaceLoginElement>> = createComponent({
  react: React,
  tagName: 'face-login',
  elementClass: FaceLoginElement,
  events: EVENT_PROPS as { [P in keyof EventProps]: EventName<FaceLoginEventMap[EventProps[P]]> },
  displayName: 'FaceLogin',
});
