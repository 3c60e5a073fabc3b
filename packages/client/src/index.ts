export { Trestle, type ConnectOptions, type StartRunOptions } from './trestle.js';
export { ActiveRun, runArtifactKey, type DatasetRef } from './active-run.js';
export { MetricBuffer, type MetricBufferOptions } from './metric-buffer.js';
