/** Main entry: everything from the headless entry plus the <face-login> element (registered on import). */
export * from './headless.js';
export { FaceLoginElement } from './element/face-login.js';
export type * from './element/events.js';
export { messagesFor, en } from './element/i18n.js';
export type { Messages, FaceLoginStatus } from './element/i18n.js';
