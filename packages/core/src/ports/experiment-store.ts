import type { Experiment, Tag, ViewType } from '../experiment.js';
import type { Page } from '../page.js';

/** Options of {@link ExperimentStore.searchExperiments}. */
export interface SearchExperimentsOptions {
  /** MLflow experiment filter, e.g. `name LIKE 'fraud%' AND tags.team = 'risk'` (OR and parentheses allowed). */
  filter?: string;
  /** e.g. `['name ASC', 'creation_time DESC']`; default `creation_time DESC, experiment_id ASC`. */
  orderBy?: string[];
  /** Page size; default 1000, at most 50,000. */
  maxResults?: number;
  pageToken?: string;
  viewType?: ViewType;
}

/**
 * Experiments: named groups of runs. Names are unique among all experiments (active or deleted).
 *
 * @example
 * const exp = await store.createExperiment({ name: 'flights' });
 * await store.setExperimentTag(exp.experimentId, 'team', 'ops');
 */
export interface ExperimentStore {
  /** Creates an experiment; `ALREADY_EXISTS` if the name is taken. */
  createExperiment(input: { name: string; artifactLocation?: string; tags?: Tag[] }): Promise<Experiment>;
  /** `NOT_FOUND` if there is no such experiment. */
  getExperiment(experimentId: string): Promise<Experiment>;
  /** `NOT_FOUND` if there is no experiment of that name. */
  getExperimentByName(name: string): Promise<Experiment>;
  searchExperiments(options?: SearchExperimentsOptions): Promise<Page<Experiment>>;
  /** `ALREADY_EXISTS` if `newName` is taken. */
  renameExperiment(experimentId: string, newName: string): Promise<void>;
  /** Soft delete: the experiment and its runs move to the `deleted` lifecycle stage. */
  deleteExperiment(experimentId: string): Promise<void>;
  restoreExperiment(experimentId: string): Promise<void>;
  /** Sets (overwrites) a tag. */
  setExperimentTag(experimentId: string, key: string, value: string): Promise<void>;
  deleteExperimentTag(experimentId: string, key: string): Promise<void>;
}
