export * from './metadata-contract.js';
export * from './artifact-contract.js';
