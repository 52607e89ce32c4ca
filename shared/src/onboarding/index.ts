export * from './onboardingApi.js';
