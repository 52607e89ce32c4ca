export * from './audioToMouthManifest.js';
