/**
 * The Trestle REST API v1 on the wire, in one place: TypeBox schemas of every request and
 * answer (the server validates with them and builds its OpenAPI document from them, the client
 * derives its types from them) and the metric-value codec. TypeBox is plain JavaScript, so
 * this module has no I/O and no web framework; it is a separate entry point
 * (`@trestle/core/rest`) so that programs which never speak HTTP do not load it.
 *
 * New routes: put their schemas in the file of their resource here (or a new one), export them
 * below, and use them from the server's route plugin and the client's adapter.
 *
 * @example
 * import { Run, Page, type WireRun } from '@trestle/core/rest';
 * app.get('/runs/:runId', { schema: { params: RunIdParams, response: { 200: Run, ...errorResponses } } }, …);
 */
import type { Static } from 'typebox';
import type { ErrorCode } from '../errors.js';
import type { Experiment as CoreExperiment, Tag as CoreTag } from '../experiment.js';
import type { Dataset as CoreDataset } from '../dataset.js';
import type { ArtifactEntry as CoreArtifactEntry, ArtifactInfo as CoreArtifactInfo } from '../ports/artifact-store.js';
import type { SearchExperimentsOptions } from '../ports/experiment-store.js';
import type { CreateRunInput as CoreCreateRunInput, UpdateRunInput as CoreUpdateRunInput } from '../ports/run-store.js';
import type { ApiToken as CoreApiToken } from '../ports/token-store.js';
import type { MonitorResult as CoreMonitorResult } from '../ports/monitoring-store.js';
import type { MonitorResult } from './monitoring.js';
import type { FeedbackBody, InferenceLogsBody, InferenceWindowBody } from './monitoring.js';
import type { RunInfo as CoreRunInfo } from '../run.js';
import type { RunKeys as CoreRunKeys } from '../ports/run-store.js';
import type { ArtifactEntry, ArtifactInfo, ArtifactList } from './artifacts.js';
import type { ErrorBody, Tag, TagValueBody } from './common.js';
import { Page } from './common.js';
import type { CreateExperimentBody, RenameExperimentBody, SearchExperimentsQuery } from './experiments.js';
import { Experiment } from './experiments.js';
import type { RunKeys } from './experiments.js';
import type { DownsampledHistory } from './metrics.js';
import type {
  CreateRunInput,
  Dataset,
  LogInputsBody,
  RunComparison,
  RunInfo,
  SearchRunsBody,
  UpdateRunInput,
} from './runs.js';
import { Metric, Run } from './runs.js';
import type { ApiToken } from './tokens.js';
import type {
  CreateModelVersionBody,
  CreateRegisteredModelBody,
  ListEventsQuery,
  SearchRegistryQuery,
  UpdateModelVersionBody,
  UpdateRegisteredModelBody,
} from './registry.js';
import type { DatasetLineage, ModelLineage, RegistryEvent, RegistryEventList } from './registry.js';
import { ModelVersion, RegisteredModel } from './registry.js';
import type {
  DatasetLineage as CoreDatasetLineage,
  ModelLineage as CoreModelLineage,
  ModelVersion as CoreModelVersion,
  RegisteredModel as CoreRegisteredModel,
  RegistryEvent as CoreRegistryEvent,
} from '../registry.js';

export * from './common.js';
export * from './experiments.js';
export * from './runs.js';
export * from './metrics.js';
export * from './artifacts.js';
export * from './tokens.js';
export * from './health.js';
export * from './monitoring.js';
export * from './wire.js';
export * from './registry.js';

/** Prefix of the Trestle REST API v1. */
export const API_V1_PREFIX = '/api/v1';

/** Version of the REST API v1 contract, shown in the OpenAPI document. */
export const API_VERSION = '1.0.0';

/** Pages of the searches and the paged metric history. */
export const ExperimentPage = Page(Experiment);
export const RunPage = Page(Run);
export const MetricPage = Page(Metric);

export const RegisteredModelPage = Page(RegisteredModel);
export const ModelVersionPage = Page(ModelVersion);
export type WireRegisteredModel = Static<typeof RegisteredModel>;
export type WireModelVersion = Static<typeof ModelVersion>;
export type WireRegisteredModelPage = Static<typeof RegisteredModelPage>;
export type WireModelVersionPage = Static<typeof ModelVersionPage>;
export type WireRegistryEventList = Static<typeof RegistryEventList>;
export type WireModelLineage = Static<typeof ModelLineage>;
export type WireDatasetLineage = Static<typeof DatasetLineage>;
export type WireCreateRegisteredModel = Static<typeof CreateRegisteredModelBody>;
export type WireUpdateRegisteredModel = Static<typeof UpdateRegisteredModelBody>;
export type WireCreateModelVersion = Static<typeof CreateModelVersionBody>;
export type WireUpdateModelVersion = Static<typeof UpdateModelVersionBody>;
export type WireSearchRegistry = Static<typeof SearchRegistryQuery>;
export type WireListEvents = Static<typeof ListEventsQuery>;

/** The JSON shape of one page of experiments. */
export type WireExperimentPage = Static<typeof ExperimentPage>;
/** The JSON shape of one page of runs. */
export type WireRunPage = Static<typeof RunPage>;
/** The JSON shape of one page of a metric history. */
export type WireMetricPage = Static<typeof MetricPage>;
/** The JSON shape of an error answer. */
export type WireError = Static<typeof ErrorBody>;
/** The JSON shape of a downsampled history. */
export type WireDownsampledHistory = Static<typeof DownsampledHistory>;
/** The JSON shape of an artifact listing. */
export type WireArtifactList = Static<typeof ArtifactList>;
/** The JSON shape of a completed upload. */
export type WireArtifactInfo = Static<typeof ArtifactInfo>;
/** The JSON shape of a run comparison. */
export type WireRunComparison = Static<typeof RunComparison>;
/** The JSON shape of the keys of an experiment's runs (the same as the core type). */
export type WireRunKeys = Static<typeof RunKeys>;
/** The JSON shape of an experiment (the same as the core type). */
export type WireExperiment = Static<typeof Experiment>;
/** The JSON shape of a run's info (the same as the core type). */
export type WireRunInfo = Static<typeof RunInfo>;
/** Request bodies, as the client sends them. */
export type WireRenameExperiment = Static<typeof RenameExperimentBody>;
export type WireTagValue = Static<typeof TagValueBody>;
export type WireCreateExperiment = Static<typeof CreateExperimentBody>;
export type WireCreateRun = Static<typeof CreateRunInput>;
export type WireUpdateRun = Static<typeof UpdateRunInput>;
export type WireSearchRuns = Static<typeof SearchRunsBody>;
export type WireSearchExperiments = Static<typeof SearchExperimentsQuery>;
export type WireLogInputs = Static<typeof LogInputsBody>;
export type WireInferenceLogs = Static<typeof InferenceLogsBody>;
export type WireInferenceWindow = Static<typeof InferenceWindowBody>;
export type WireFeedback = Static<typeof FeedbackBody>;
export type WireMonitorResult = Static<typeof MonitorResult>;

// ---- compile-time checks that the schemas describe the core types --------------------

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const agree = <T extends true>(): T | undefined => undefined;
agree<Same<Static<typeof Tag>, CoreTag>>();
agree<Same<Static<typeof Experiment>, CoreExperiment>>();
agree<Same<Static<typeof RunInfo>, CoreRunInfo>>();
agree<Same<Static<typeof RunKeys>, CoreRunKeys>>();
agree<Same<Static<typeof Dataset>, CoreDataset>>();
agree<Same<Static<typeof CreateRunInput>, CoreCreateRunInput>>();
agree<Same<Static<typeof UpdateRunInput>, CoreUpdateRunInput>>();
agree<Same<Static<typeof SearchExperimentsQuery>, SearchExperimentsOptions>>();
agree<Same<Static<typeof CreateExperimentBody>, { name: string; artifactLocation?: string; tags?: CoreTag[] }>>();
agree<Same<Static<typeof ArtifactInfo>, CoreArtifactInfo>>();
agree<Same<Static<typeof ArtifactEntry>, CoreArtifactEntry>>();
agree<Same<Static<typeof ApiToken>, CoreApiToken>>();
agree<Same<Static<typeof ErrorBody>['error']['code'], ErrorCode>>();
agree<Same<Static<typeof RegisteredModel>, CoreRegisteredModel>>();
agree<Same<Static<typeof ModelVersion>, CoreModelVersion>>();
agree<Same<Static<typeof RegistryEvent>, CoreRegistryEvent>>();
agree<Same<Static<typeof ModelLineage>, CoreModelLineage>>();
agree<Same<Static<typeof DatasetLineage>, CoreDatasetLineage>>();
agree<
  Same<
    Omit<Static<typeof MonitorResult>, 'drift' | 'quality' | 'performance'>,
    Omit<CoreMonitorResult, 'drift' | 'quality' | 'performance'>
  >
>();
