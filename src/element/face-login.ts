import { FaceLoginElement } from './face-login.component.js';

export { FaceLoginElement };

if (!customElements.get('face-login')) customElements.define('face-login', FaceLoginElement);

declare global {
  interface HTMLElementTagNameMap {
    'face-login': FaceLoginElement;
  }
}
