/**
 * `@trestle/serving`: the inference server behind `trestle serve`.
 *
 * @example
 * import { startServing } from '@trestle/serving';
 * const running = await startServing({ champion: predictor, port: 8080 });
 * // curl -d '{"distance": 1200, "origin": "SFO"}' localhost:8080/predict
 * await running.close(); // drains in-flight requests
 */
export * from './predictor.js';
export { InputSchema, valueKind, type ValueKind } from './signature.js';
export { Batcher, defaultBatching, type BatchingOptions } from './batcher.js';
export { ServingMetrics } from './metrics.js';
export { serveClusterMetrics, joinClusterMetrics } from './cluster-metrics.js';
export { ModelRuntime, type Role } from './runtime.js';
export { TrafficRouter, type TrafficMode } from './traffic.js';
export { ServingApp, type InferenceEvent, type InferenceSink } from './http-app.js';
export * from './serve.js';
export { serveModel, type ServeModelOptions, type ServedModel } from './serve-model.js';
export type { ModelsModule, LoadModelOptionsLike } from './models-module.js';
export { modelPredictor, warmupBatch, type LoadedModelLike } from './model-predictor.js';
export { AliasFollower, type AliasFollowerOptions } from './hot-swap.js';
export { InferenceLogger, type InferenceLoggerOptions } from './logging/inference-logger.js';
export { HttpControlPlane, ShipError, type ControlPlane } from './logging/control-plane.js';
