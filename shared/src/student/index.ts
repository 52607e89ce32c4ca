export * from './studentManifest.js';
export * from './trainingProgress.js';
export * from './sourceCheck.js';
