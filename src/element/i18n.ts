import type { Hint } from '../core/engine.js';
import type { FaceLoginErrorCode } from '../core/errors.js';
import type { PoseName } from '../core/pose.js';
import type { CaptureRefusal } from '../protocol/routes/sessions.js';

/** What the status line can say: a phase, an outcome, a capture hint, or an error code. */
export type FaceLoginStatus =
  | 'loading'
  | 'starting-camera'
  | 'ready'
  | 'processing'
  | 'enrolled'
  | 'verified'
  | 'rejected'
  | 'identified'
  | 'unknown'
  | 'watching'
  /** An action is waiting for a face (the text says for how long). */
  | 'looking'
  /** The person (or the page) cancelled the action; the camera keeps running. */
  | 'cancelled'
  /** A session: reading what the server asks. */
  | 'preparing'
  /** A session: the frames are being sent. */
  | 'sending'
  /** A session: the server has the frames and has decided; the site tells the person (never a decision here). */
  | 'submitted'
  | Hint
  | FaceLoginErrorCode;

/**
 * One typed table per language. A missing key is a compile error, so every language says
 * everything; parameterised texts are functions.
 */
export type Messages = Record<FaceLoginStatus, string> & {
  actionEnroll: string;
  actionVerify: string;
  actionIdentify: string;
  actionKiosk: string;
  actionRetry: string;
  actionCancel: string;
  previewLabel: string;
  cameraLabel: string;
  poses: Record<PoseName, string>;
  identifiedAs: (name: string) => string;
  step: (done: number, total: number, pose: string) => string;
  livenessStep: (done: number, total: number) => string;
  loadingBytes: (loadedMb: string, totalMb: string) => string;
  /** The status while an action waits for a face, with its time limit. */
  lookUpTo: (seconds: number) => string;
  /** Added to a capture hint while the action waits: its time limit. */
  upTo: (seconds: number) => string;
  /** locked-out / rate-limited when the server said how long to wait. */
  waitFor: (seconds: number) => string;
  /** backend-overloaded (or -unavailable) when the server said how long to wait (Retry-After). */
  serverBusy: (seconds: number) => string;
  /** The action button with a session, before the session is read. */
  actionSession: string;
  /** A session is unknown, already used or expired (invalid-session). */
  sessionInvalid: string;
  /** Why the server refused a session's frames (about the capture, never whose face it is). */
  sessionRefused: Record<CaptureRefusal, string>;
  /** Added after a refusal: the session is used up, the site has to start a new one. */
  sessionEnded: string;
};

export const en: Messages = {
  loading: 'Loading face models…',
  'starting-camera': 'Starting the camera…',
  ready: 'Ready. Look at the camera.',
  processing: 'Checking…',
  enrolled: 'Your face is enrolled.',
  verified: 'Verified. Welcome!',
  rejected: 'Face not recognised.',
  identified: 'Recognised.',
  unknown: 'Unknown person.',
  watching: 'Step in front of the camera.',
  'no-face': 'No face found. Look straight at the camera and try again.',
  'multiple-faces': 'More than one face is in view. Only one person, please, then try again.',
  'too-far': 'Move closer to the camera.',
  'too-close': 'Move back a little.',
  'off-center': 'Move into the middle of the picture.',
  'low-score': 'Your face is hard to see. Face the camera in good light.',
  'too-dark': 'It is too dark. Turn on a light or face a window.',
  'too-bright': 'Too much light. Avoid direct light on the camera.',
  blurry: 'The picture is blurry. Hold still.',
  'turn-left': 'Slowly turn your head to your left.',
  'turn-right': 'Slowly turn your head to your right.',
  'look-up': 'Tilt your head up a little.',
  'look-down': 'Tilt your head down a little.',
  'face-forward': 'Look straight at the camera.',
  'hold-still': 'Hold still…',
  'camera-denied': 'Camera access was denied. Allow the camera in your browser settings and try again.',
  'camera-not-found': 'No camera was found. Connect a camera and try again.',
  'camera-busy': 'The camera could not start. Close other apps that use it and try again.',
  'camera-ended': 'The camera was disconnected. Connect it again and try again.',
  'camera-unsupported': 'This page cannot use the camera. Open it over https:// or in another browser.',
  'camera-not-started': 'The camera is not on yet. Start it and try again.',
  'frame-failed': 'The camera picture could not be processed. Try again.',
  'model-load-failed': 'The face models could not be loaded. Check your connection and reload.',
  'not-enrolled': 'This name is not enrolled yet: enrol first.',
  'storage-unavailable': 'This browser cannot save faces here (private mode or storage blocked). Use a normal window.',
  'storage-full': 'Browser storage is full. Free some space and try again.',
  'invalid-input': 'Face login is not set up correctly on this page. Please tell the site owner.',
  aborted: 'Cancelled. Press the button to start again.',
  disposed: 'Face login has stopped. Reload the page to use it again.',
  'backend-unavailable': 'The server cannot be reached. Check your connection and try again.',
  'backend-overloaded': 'The server is busy right now. Try again in a moment.',
  'backend-storage': 'The server cannot save anything right now. Try again later; if it keeps happening, tell the site owner.',
  'backend-error': 'Something went wrong on the server. Try again later.',
  'locked-out': 'Too many tries: wait a few minutes, then try again.',
  'rate-limited': 'Too many tries at once: wait a moment, then try again.',
  'duplicate-enrollment': 'This face is already enrolled under another name. Log in with that name instead.',
  'liveness-failed': 'The liveness check failed. Follow the prompts and try again.',
  'backend-conflict': 'Face login is set up twice on this page in different ways. Please tell the site owner.',
  busy: 'Please wait: another face check is still running.',
  actionEnroll: 'Enroll my face',
  actionVerify: 'Log in with my face',
  actionIdentify: 'Identify',
  actionKiosk: 'Start attendance',
  actionRetry: 'Try again',
  actionCancel: 'Cancel',
  previewLabel: 'Camera preview',
  cameraLabel: 'Camera',
  poses: { center: 'straight ahead', left: 'left', right: 'right', up: 'up', down: 'down' },
  identifiedAs: (name) => `Recognised: ${name}.`,
  step: (done, total, pose) => `Pose ${done + 1} of ${total}: ${pose}.`,
  livenessStep: (done, total) => `Liveness check ${done + 1} of ${total}.`,
  loadingBytes: (loaded, total) => `Loading face models… ${loaded} of ${total} MB`,
  looking: 'Look at the camera.',
  cancelled: 'Cancelled.',
  lookUpTo: (s) => `Look at the camera (up to ${s} s).`,
  upTo: (s) => `(up to ${s} s)`,
  waitFor: (s) => `Too many tries: wait ${s >= 60 ? `${Math.ceil(s / 60)} minute${Math.ceil(s / 60) === 1 ? '' : 's'}` : `${s} seconds`}, then try again.`,
  serverBusy: (s) => `The server is busy: try again in ${s >= 60 ? `${Math.ceil(s / 60)} minute${Math.ceil(s / 60) === 1 ? '' : 's'}` : `${s} second${s === 1 ? '' : 's'}`}.`,
  preparing: 'Getting ready…',
  sending: 'Sending…',
  submitted: 'Sent. The site will tell you the result.',
  actionSession: 'Start the face check',
  sessionInvalid: 'This face check has expired or was already used. Start again from the site.',
  sessionRefused: {
    'no-face': 'The server could not see one clear face in every picture.',
    'multiple-faces': 'The server saw more than one face.',
    'liveness-failed': 'The server could not see the head movements it asked for.',
    'identity-changed': 'The pictures did not all show the same person.',
    'bad-frames': 'The pictures could not be read.',
  },
  sessionEnded: 'This attempt cannot be repeated: start again from the site.',
};

export const zhCN: Messages = {
  loading: '正在加载人脸模型…',
  'starting-camera': '正在启动摄像头…',
  ready: '准备就绪，请看向摄像头。',
  processing: '正在验证…',
  enrolled: '人脸已录入。',
  verified: '验证通过，欢迎！',
  rejected: '人脸未能识别。',
  identified: '已识别。',
  unknown: '未知人员。',
  watching: '请站到摄像头前。',
  'no-face': '未检测到人脸，请正视摄像头后重试。',
  'multiple-faces': '画面中有多张人脸，请只保留一人后重试。',
  'too-far': '请靠近摄像头。',
  'too-close': '请稍微后退。',
  'off-center': '请移动到画面中央。',
  'low-score': '人脸不够清楚，请在光线充足处正对摄像头。',
  'too-dark': '光线太暗，请打开灯或面向窗户。',
  'too-bright': '光线太强，请避免强光直射摄像头。',
  blurry: '画面模糊，请保持不动。',
  'turn-left': '请慢慢向左转头。',
  'turn-right': '请慢慢向右转头。',
  'look-up': '请稍微抬头。',
  'look-down': '请稍微低头。',
  'face-forward': '请正视摄像头。',
  'hold-still': '请保持不动…',
  'camera-denied': '摄像头权限被拒绝。请在浏览器设置中允许使用摄像头后重试。',
  'camera-not-found': '未找到摄像头。请连接摄像头后重试。',
  'camera-busy': '摄像头无法启动，请关闭正在使用摄像头的其他应用后重试。',
  'camera-ended': '摄像头已断开，请重新连接后重试。',
  'camera-unsupported': '此页面无法使用摄像头，请通过 https:// 打开或换一个浏览器。',
  'camera-not-started': '摄像头尚未开启，请开启后重试。',
  'frame-failed': '无法处理摄像头画面，请重试。',
  'model-load-failed': '人脸模型加载失败。请检查网络后刷新页面。',
  'not-enrolled': '此用户名尚未录入人脸：请先录入。',
  'storage-unavailable': '此浏览器无法在这里保存人脸（隐私模式或存储被禁用），请使用普通窗口。',
  'storage-full': '浏览器存储空间已满，请清理空间后重试。',
  'invalid-input': '此页面的人脸登录配置有误，请联系网站管理员。',
  aborted: '已取消。按按钮可重新开始。',
  disposed: '人脸登录已停止，请刷新页面后再使用。',
  'backend-unavailable': '无法连接服务器，请检查网络后重试。',
  'backend-overloaded': '服务器正忙，请稍后重试。',
  'backend-storage': '服务器暂时无法保存数据，请稍后重试；如果一直出现，请联系网站管理员。',
  'backend-error': '服务器出错了，请稍后再试。',
  'locked-out': '尝试次数过多：请等几分钟后再试。',
  'rate-limited': '尝试过于频繁：请稍等片刻后再试。',
  'duplicate-enrollment': '此人脸已录入在其他用户名下，请用那个用户名登录。',
  'liveness-failed': '活体检测未通过，请按提示操作后重试。',
  'backend-conflict': '此页面上的人脸登录被以不同方式设置了两次，请联系网站管理员。',
  busy: '请稍候：另一项人脸验证仍在进行中。',
  actionEnroll: '录入我的人脸',
  actionVerify: '刷脸登录',
  actionIdentify: '识别',
  actionKiosk: '开始考勤',
  actionRetry: '重试',
  actionCancel: '取消',
  previewLabel: '摄像头预览',
  cameraLabel: '摄像头',
  poses: { center: '正面', left: '向左', right: '向右', up: '向上', down: '向下' },
  identifiedAs: (name) => `已识别：${name}。`,
  step: (done, total, pose) => `姿势 ${done + 1}/${total}：${pose}。`,
  livenessStep: (done, total) => `活体检测 ${done + 1}/${total}。`,
  loadingBytes: (loaded, total) => `正在加载人脸模型… ${loaded}/${total} MB`,
  looking: '请看向摄像头。',
  cancelled: '已取消。',
  lookUpTo: (s) => `请看向摄像头（最多 ${s} 秒）。`,
  upTo: (s) => `（最多 ${s} 秒）`,
  waitFor: (s) => `尝试次数过多：请等待 ${s >= 60 ? `${Math.ceil(s / 60)} 分钟` : `${s} 秒`}后再试。`,
  serverBusy: (s) => `服务器繁忙：请在 ${s >= 60 ? `${Math.ceil(s / 60)} 分钟` : `${s} 秒`}后重试。`,
  preparing: '正在准备…',
  sending: '正在发送…',
  submitted: '已发送。网站会告诉您结果。',
  actionSession: '开始人脸验证',
  sessionInvalid: '此次人脸验证已过期或已使用，请从网站重新开始。',
  sessionRefused: {
    'no-face': '服务器未能在每张画面中看到一张清晰的人脸。',
    'multiple-faces': '服务器看到了不止一张人脸。',
    'liveness-failed': '服务器未能看到要求的转头动作。',
    'identity-changed': '这些画面并非都是同一个人。',
    'bad-frames': '画面无法读取。',
  },
  sessionEnded: '本次尝试无法重复，请从网站重新开始。',
};

const tables: Record<string, Messages> = { en, 'zh-CN': zhCN, zh: zhCN };

/** The languages with a table of their own (the `lang` values the element documents). */
export const LANGUAGES = ['en', 'zh-CN'] as const;

/**
 * Messages for a BCP 47 language tag (exact, then its language), falling back to English: for a
 * language without a table ("fr") and for a value that is no tag at all ("__proto__", which the
 * element also reports as invalid-input): the button and status line always have a text.
 */
export function messagesFor(lang: string | null | undefined): Messages {
  if (!lang) return en;
  // Own keys only: lang="__proto__" / "constructor" / "toString" must not reach Object.prototype.
  const table = (tag: string) => (Object.hasOwn(tables, tag) ? tables[tag] : undefined);
  return table(lang) ?? table(lang.split('-')[0]!) ?? en;
}
