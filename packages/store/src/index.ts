export * from './metadata/index.js';
export * from './artifacts/index.js';
export * from './open-stores.js';
