/** The package's flat ESM bundle (its `module` entry imports files it does not ship) has the types of its index. */
declare module '@tensorflow/tfjs-tflite/dist/tf-tflite.fesm.js' {
  export * from '@tensorflow/tfjs-tflite';
}
