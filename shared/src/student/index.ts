export * from './studentManifest.js';
export * from './trainingProgress.js';
