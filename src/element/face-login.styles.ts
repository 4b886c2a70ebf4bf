import { css } from 'lit';

export const styles = css`
  :host {
    --face-login-width: 320px;
    --face-login-radius: 12px;
    --face-login-accent: #2563eb;
    --face-login-ok: #16a34a;
    --face-login-bad: #dc2626;
    --face-login-fg: #111827;
    --face-login-bg: #f9fafb;
    --face-login-font: system-ui, -apple-system, 'Segoe UI', sans-serif;
    display: inline-block;
    width: var(--face-login-width);
    font-family: var(--face-login-font);
    color: var(--face-login-fg);
  }
  :host([hidden]) {
    display: none;
  }
  .frame {
    position: relative;
    aspect-ratio: 4 / 3;
    border-radius: var(--face-login-radius);
    overflow: hidden;
    background: #000;
  }
  video,
  canvas {
    position: absolute;
    inset: 0;
    width: 100%;
    height: 100%;
    object-fit: cover;
    /* A mirror image is what people expect from a front camera. */
    transform: scaleX(-1);
  }
  .hint {
    position: absolute;
    left: 0.5rem;
    right: 0.5rem;
    bottom: 0.5rem;
    display: flex;
    align-items: center;
    gap: 0.5rem;
    padding: 0.4rem 0.6rem;
    border-radius: 6px;
    background: rgb(0 0 0 / 0.65);
    color: #fff;
    font-size: 0.95em;
  }
  .hint .arrow {
    font-size: 2em;
    line-height: 1;
  }
  progress {
    position: absolute;
    left: 10%;
    right: 10%;
    top: 50%;
    width: 80%;
  }
  .camera {
    display: flex;
    gap: 0.5rem;
    align-items: center;
    margin-bottom: 0.5rem;
  }
  .camera select {
    flex: 1;
    font: inherit;
  }
  .status {
    margin: 0.5rem 0;
    min-height: 2.5em;
    padding: 0.4rem 0.6rem;
    border-radius: 6px;
    background: var(--face-login-bg);
  }
  .status[data-tone='ok'] {
    color: var(--face-login-ok);
  }
  .status[data-tone='bad'] {
    color: var(--face-login-bad);
  }
  button {
    font: inherit;
    width: 100%;
    padding: 0.6rem;
    border: 0;
    border-radius: 6px;
    background: var(--face-login-accent);
    color: #fff;
    cursor: pointer;
  }
  button:disabled {
    opacity: 0.5;
    cursor: default;
  }
  button:focus-visible {
    outline: 3px solid var(--face-login-accent);
    outline-offset: 2px;
  }
  @media (prefers-reduced-motion: no-preference) {
    .status {
      transition: color 0.2s;
    }
  }
`;
