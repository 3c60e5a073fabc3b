export * from './remote-contract.js';
