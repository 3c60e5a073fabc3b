export * from './metadata-contract.js';
export { trackingBackendContract, type TrackingContractSubject } from './tracking-contract.js';
export * from './artifact-contract.js';
export * from './s3rver.js';
export * from './registry-contract.js';
