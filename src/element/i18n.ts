import type { FaceLoginErrorCode } from '../core/errors.js';

/** What the status line can say. Error codes are statuses too. */
export type FaceLoginStatus =
  | 'loading'
  | 'starting-camera'
  | 'ready'
  | 'no-face'
  | 'multiple-faces'
  | 'too-small'
  | 'hold-still'
  | 'processing'
  | 'enrolled'
  | 'verified'
  | 'rejected'
  | 'identified'
  | 'unknown'
  | FaceLoginErrorCode;

export type Messages = Record<FaceLoginStatus, string> & {
  actionEnroll: string;
  actionVerify: string;
  actionIdentify: string;
  actionRetry: string;
  previewLabel: string;
};

export const en: Messages = {
  loading: 'Loading face models…',
  'starting-camera': 'Starting the camera…',
  ready: 'Ready. Look at the camera.',
  'no-face': 'No face found. Look straight at the camera.',
  'multiple-faces': 'More than one face is in view. Only one person, please.',
  'too-small': 'Move closer to the camera.',
  'hold-still': 'Hold still…',
  processing: 'Checking…',
  enrolled: 'Your face is enrolled.',
  verified: 'Verified. Welcome!',
  rejected: 'Face not recognised.',
  identified: 'Recognised.',
  unknown: 'Unknown person.',
  'camera-denied': 'Camera access was denied. Allow the camera in your browser settings and try again.',
  'camera-not-found': 'No camera was found. Connect a camera and try again.',
  'camera-busy': 'The camera is in use by another application or could not start.',
  'camera-ended': 'The camera was disconnected.',
  'camera-unsupported': 'This browser cannot use a camera on this page (HTTPS is required).',
  'model-load-failed': 'The face models could not be loaded. Check your connection and reload.',
  'not-enrolled': 'This user is not enrolled yet.',
  'storage-unavailable': 'Browser storage is unavailable (private mode or blocked), so faces cannot be saved here.',
  'storage-full': 'Browser storage is full.',
  'invalid-input': 'Something is misconfigured on this page.',
  aborted: 'Cancelled.',
  disposed: 'Stopped.',
  'backend-unavailable': 'The verification server cannot be reached. Check your connection and try again.',
  'backend-error': 'The verification server answered with an error. Try again later.',
  'locked-out': 'Too many failed attempts. Please wait before trying again.',
  'rate-limited': 'Too many requests. Please wait a moment.',
  'duplicate-enrollment': 'This face is already enrolled under another user.',
  'liveness-failed': 'The liveness check failed. Follow the prompts and try again.',
  actionEnroll: 'Enroll my face',
  actionVerify: 'Log in with my face',
  actionIdentify: 'Identify',
  actionRetry: 'Try again',
  previewLabel: 'Camera preview',
};

const tables: Record<string, Messages> = { en };

/** Messages for a BCP 47 language tag, falling back to English. */
export function messagesFor(lang: string | null | undefined): Messages {
  if (!lang) return en;
  return tables[lang] ?? tables[lang.split('-')[0]!] ?? en;
}
