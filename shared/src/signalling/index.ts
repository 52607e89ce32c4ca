export * from './mediasoupSchemas';
export * from './requests';
export * from './responses';
export * from './notifications';
export * from './socketEvents';
export * from './results';
export * from './clientText';
