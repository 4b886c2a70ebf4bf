/** custom-elements.json for IDEs and docs, generated from the JSDoc block above FaceLoginElement. */
export default {
  globs: ['src/element/face-login.component.ts', 'src/element/face-login.ts'],
  litelement: true,
};
