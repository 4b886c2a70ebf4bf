/** custom-elements.json for IDEs and docs, generated from the JSDoc block above FaceLoginElement. */
export default {
  globs: ['src/element/face-login.component.ts', 'src/element/face-login.ts'],
  litelement: true,
  // package.json names custom-elements.json itself; the analyzer must not rewrite it (the test runs it into a temp dir).
  packagejson: false,
};
