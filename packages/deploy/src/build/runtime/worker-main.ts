/**
 * The entrypoint of the pipeline-worker image (`trestle build --worker`), bundled into
 * `worker.mjs`: what `trestle worker` runs. It takes stages from `TRESTLE_QUEUE`
 * (`redis://…`) and runs them in the project checkout mounted at the working directory
 * (`/project` in the image), pulling inputs from and pushing outputs to `TRESTLE_REMOTE`
 * (a folder or `s3://bucket/prefix`, `TRESTLE_S3_ENDPOINT` for MinIO). Prints
 * `{"ready": true, …}` once it listens to the queue; stops after the running stages on SIGTERM.
 */
import { isTrestleError, loadConfig } from '@trestle/core';
import { DataRepo, findWorkspace } from '@trestle/pipelines';
import { startWorker } from '@trestle/pipelines/pipeline';
import { openArtifactStore } from '@trestle/store';

async function main(): Promise<void> {
  const env = process.env;
  const config = loadConfig({}, env);
  if (config.queue === undefined) throw new Error('no queue: set TRESTLE_QUEUE=redis://host:6379');
  if (config.remote === undefined) {
    throw new Error('no data remote: set TRESTLE_REMOTE to a folder or s3://bucket/prefix');
  }
  const jobs = Number(env['TRESTLE_WORKER_JOBS'] ?? 1);
  if (!Number.isSafeInteger(jobs) || jobs < 1) {
    throw new Error(`TRESTLE_WORKER_JOBS must be a whole number from 1, got '${env['TRESTLE_WORKER_JOBS']}'`);
  }
  const ws = findWorkspace(process.cwd(), config.home);
  const repo = new DataRepo(ws);
  const remote = await openArtifactStore(config.remote, {
    cwd: ws.root,
    ...(config.s3Endpoint === undefined ? {} : { s3Endpoint: config.s3Endpoint }),
  });
  const worker = await startWorker({
    repo,
    remote,
    queueUri: config.queue,
    concurrency: jobs,
    onEvent: (m) => process.stderr.write(`worker: ${m}\n`),
  });
  process.stdout.write(`${JSON.stringify({ ready: true, project: ws.root, queue: config.queue, jobs })}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await worker.close();
  await remote.close();
  await repo.close();
}

main().catch((err: unknown) => {
  const message = isTrestleError(err) ? err.message : err instanceof Error ? err.message : String(err);
  process.stderr.write(`worker: error: ${message}\n`);
  process.exit(1);
});
