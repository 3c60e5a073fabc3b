import type { RegistryEntry } from './framework/dispatch.js';

/** Top-level commands, loaded on use (one file per command group in `commands/`). */
export const registry: RegistryEntry[] = [
  {
    name: 'quickstart',
    summary:
      'Run the flights pipeline end to end: prepare, train a GBDT and a logistic baseline, evaluate, register (npm start)',
    load: async () => (await import('./commands/quickstart.js')).quickstart,
  },
  {
    name: 'experiments',
    summary: 'Create, list, rename and delete experiments',
    load: async () => (await import('./commands/experiments.js')).experiments,
  },
  {
    name: 'runs',
    summary: 'List, show, search, compare and delete runs',
    load: async () => (await import('./commands/runs.js')).runs,
  },
  {
    name: 'traces',
    summary: 'List, show and delete traces recorded by MLflow clients',
    load: async () => (await import('./commands/traces.js')).traces,
  },
  {
    name: 'artifacts',
    summary: 'List and download run artifacts',
    load: async () => (await import('./commands/artifacts.js')).artifacts,
  },
  {
    name: 'train',
    summary: 'Train a model (gbdt, logistic, linear) on a CSV or Parquet file and log it',
    load: async () => (await import('./commands/train.js')).train,
  },
  {
    name: 'predict',
    summary: 'Score a CSV or Parquet file with a model, in chunks',
    load: async () => (await import('./commands/predict.js')).predict,
  },
  {
    name: 'models',
    summary: 'Registered models: list, show, register, alias, history, rollback, lineage, delete',
    load: async () => (await import('./commands/models.js')).models,
  },
  {
    name: 'server',
    summary: 'Run the tracking server (REST API, MLflow REST API, docs)',
    load: async () => (await import('./commands/server.js')).server,
  },
  {
    name: 'serve',
    summary: 'Serve a model over HTTP (V2, MLflow scoring, /predict) with batching, hot-swap and metrics',
    load: async () => (await import('./commands/serve.js')).serve,
  },
  {
    name: 'ui',
    summary: 'Serve the web UI on the local store and print its URL',
    load: async () => (await import('./commands/ui.js')).ui,
  },
  {
    name: 'tokens',
    summary: 'Create, list and revoke API tokens for a server started with --auth',
    load: async () => (await import('./commands/tokens.js')).tokens,
  },
  {
    name: 'data',
    summary: 'Version data: add, status, checkout, push, pull, gc',
    load: async () => (await import('./commands/data.js')).data,
  },
  {
    name: 'run',
    summary: 'Run the pipeline: changed stages only, in parallel, cached and tracked',
    load: async () => (await import('./commands/run.js')).run,
  },
  {
    name: 'dag',
    summary: "Show the pipeline's stages as a graph",
    load: async () => (await import('./commands/run.js')).dag,
  },
  {
    name: 'pipeline',
    summary: 'Export the pipeline to Kubernetes Jobs',
    load: async () => (await import('./commands/run.js')).pipeline,
  },
  {
    name: 'worker',
    summary: 'Run queued pipeline stages (TRESTLE_QUEUE) on this machine',
    load: async () => (await import('./commands/run.js')).worker,
  },
  {
    name: 'monitor',
    summary: 'Drift, data quality and performance of served models (run, status, report)',
    load: async () => (await import('./commands/monitor.js')).monitor,
  },
  {
    name: 'deploy',
    summary: 'Deploy a model: Kubernetes manifests, GitOps sync, Terraform module',
    load: async () => (await import('./commands/deploy.js')).deploy,
  },
  {
    name: 'build',
    summary: 'Write a container build context (model server, --server, --worker) or a compose.yaml',
    load: async () => (await import('./commands/build.js')).build,
  },
  {
    name: 'init',
    summary: 'Write a CI/CD workflow: trestle init --ci github|gitlab',
    load: async () => (await import('./commands/init.js')).init,
  },
  {
    name: 'db',
    summary: 'Manage the metadata store schema (upgrade, status)',
    load: async () => (await import('./commands/db.js')).db,
  },
];
