export * from './methods.js';
export * from './result.js';
export { driftFromSummary, driftBetweenWindows } from './from-summary.js';
export { driftFromColumns, type RawDriftOptions } from './from-raw.js';
export { DriftPool, type DriftPoolOptions } from './pool.js';
