export { Trestle, type ConnectOptions, type LoggedModelReader, type StartRunOptions } from './trestle.js';
export { ActiveRun, type DatasetRef } from './active-run.js';
export { runArtifactKey } from '@trestle/core';
export { MetricBuffer, type DroppedMetrics, type MetricBufferOptions } from './metric-buffer.js';
export { isTransientError } from './transient.js';
export { parseModelUri, type ModelUriRef } from './model-uri.js';
export type { WatchOptions } from './watch-events.js';
