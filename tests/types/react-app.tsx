// A React 19 + TypeScript app using <face-login>: the tag itself (React.JSX.IntrinsicElements) and
// the face-login/react wrapper. Checked by tsc (tests/types/tsconfig.json); each @ts-expect-error
// must stay an error.
import { useRef } from 'react';
import { FaceLogin, type FaceLoginElement, type FaceLoginErrorDetail, type FaceLoginVerifiedDetail } from 'face-login/react';

declare function login(userId: string): void;
declare function showTryAgain(detail: { userId: string | null }): void;

export function LoginWithTheTag() {
  const ref = useRef<FaceLoginElement>(null);
  return (
    <>
      <face-login
        ref={ref}
        mode="verify"
        user-id="alice"
        liveness="active"
        threshold={0.6}
        backend="wasm"
        expose-scores
        className="login"
        onface-login-verified={(e) => login(e.detail.userId)}
        onface-login-rejected={(e) => showTryAgain(e.detail)}
        onface-login-error={(e) => console.warn(e.detail.code, e.detail.message, e.detail.retryable)}
        onface-login-submitted={(e) => fetch(`/my-backend/result/${e.detail.sessionId}`)}
      />
      <face-login mode="identify" continuous cooldown={30} autostart onface-login-identified={(e) => login(e.detail.userId)} />
      <face-login server="https://auth.example.com" session="SESSION_ID" offline="allow" models-url="/assets/models/" wasm-url="/assets/wasm/" db-name="kiosk" lang="zh-CN" />
      {/* @ts-expect-error: "enrol" is not a mode */}
      <face-login mode="enrol" user-id="alice" />
      {/* @ts-expect-error: liveness is off | active | passive | both */}
      <face-login liveness="on" />
      {/* @ts-expect-error: the detail of face-login-verified has no code */}
      <face-login onface-login-verified={(e) => console.warn(e.detail.code)} />
      {/* @ts-expect-error: not an attribute of the element */}
      <face-login usr="alice" />
    </>
  );
}

export function LoginWithTheWrapper() {
  const ref = useRef<FaceLoginElement>(null);
  const onVerified = (e: CustomEvent<FaceLoginVerifiedDetail>) => login(e.detail.userId);
  const onError = (e: CustomEvent<FaceLoginErrorDetail>) => console.warn(e.detail.code);
  void ref.current?.start();
  return (
    <>
      <FaceLogin ref={ref} mode="enroll" userId="alice" guided onEnrolled={(e) => console.log(e.detail.templates, e.detail.modelId)} />
      <FaceLogin mode="verify" userId="alice" exposeScores onVerified={onVerified} onError={onError} onRejected={(e) => showTryAgain(e.detail)} />
      <FaceLogin server="https://auth.example.com" session="SESSION_ID" onSubmitted={(e) => console.log(e.detail.sessionId, e.detail.action)} />
      {/* @ts-expect-error: "enrol" is not a mode */}
      <FaceLogin mode="enrol" />
      {/* @ts-expect-error: score is only there with expose-scores on the device: possibly undefined */}
      <FaceLogin onVerified={(e) => e.detail.score.toFixed(2)} />
      {/* @ts-expect-error: onError gets the element's face-login-error, not React's error event */}
      <FaceLogin onError={(e: React.SyntheticEvent) => e} />
      {/* @ts-expect-error: backend is auto | webgl | wasm | cpu */}
      <FaceLogin backend="gpu" />
    </>
  );
}
