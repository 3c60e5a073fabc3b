/**
 * `trestle deploy k8s --apply` and `trestle deploy status`: server-side apply of a manifests
 * folder through `@kubernetes/client-node` (field manager `trestle`), then a wait for each
 * Deployment's rollout.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TrestleError } from '@trestle/core';
import { parse, parseAllDocuments } from 'yaml';
import type * as k8sModule from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from './validate.js';

type ClientNode = typeof k8sModule;

/** The field manager every apply uses (visible in `kubectl get -o yaml --show-managed-fields`). */
export const FIELD_MANAGER = 'trestle';

/** Where the cluster is: a kubeconfig file (default `KUBECONFIG` or `~/.kube/config`) and a context. */
export interface ClusterOptions {
  readonly kubeconfig?: string;
  readonly context?: string;
}

/**
 * Loads a kubeconfig.
 *
 * @throws TrestleError `INVALID_ARGUMENT` in one line when it does not parse or names no cluster.
 */
export async function loadKubeConfig(o: ClusterOptions = {}): Promise<{ kc: KubeConfig; k8s: ClientNode }> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  const where = o.kubeconfig ?? 'the default kubeconfig (KUBECONFIG or ~/.kube/config)';
  try {
    if (o.kubeconfig !== undefined) kc.loadFromFile(o.kubeconfig);
    else kc.loadFromDefault();
    if (o.context !== undefined) kc.setCurrentContext(o.context);
  } catch (err) {
    const first = String((err as Error).message ?? err).split('\n')[0];
    throw new TrestleError('INVALID_ARGUMENT', `kubeconfig ${where} does not parse: ${first}`, {}, { cause: err });
  }
  if (kc.getCurrentCluster() === null) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `kubeconfig ${where} has no cluster for context '${kc.getCurrentContext() || '(none)'}': set current-context or pass --context`,
    );
  }
  return { kc, k8s };
}

/** The objects of a folder written by `trestle deploy k8s`, in its kustomization's order. */
export async function readManifestFolder(dir: string): Promise<KubeObject[]> {
  let resources: string[];
  try {
    resources = (parse(await readFile(join(dir, 'kustomization.yaml'), 'utf8')) as { resources: string[] }).resources;
  } catch {
    throw new TrestleError('NOT_FOUND', `${dir} has no kustomization.yaml: write it with 'trestle deploy k8s'`);
  }
  const objects: KubeObject[] = [];
  for (const f of resources) {
    for (const doc of parseAllDocuments(await readFile(join(dir, f), 'utf8'))) objects.push(doc.toJS() as KubeObject);
  }
  return objects;
}

/** A Deployment's rollout, as read from its status. */
export interface RolloutState {
  readonly name: string;
  readonly desired: number;
  readonly updated: number;
  readonly available: number;
  readonly ready: boolean;
  /** The model version the Deployment pins (its `trestle.dev/model-version` label). */
  readonly modelVersion?: string;
}

interface DeploymentLike {
  metadata?: { name?: string; generation?: number; labels?: Record<string, string> };
  spec?: { replicas?: number };
  status?: { observedGeneration?: number; replicas?: number; updatedReplicas?: number; availableReplicas?: number };
}

function rolloutOf(d: DeploymentLike): RolloutState {
  const desired = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const updated = s.updatedReplicas ?? 0;
  const available = s.availableReplicas ?? 0;
  const observed = (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
  const version = d.metadata?.labels?.['trestle.dev/model-version'];
  return {
    name: d.metadata?.name ?? '?',
    desired,
    updated,
    available,
    ready: observed && updated === desired && available === desired && (s.replicas ?? updated) === updated,
    ...(version === undefined ? {} : { modelVersion: version }),
  };
}

/** Options of {@link applyFolder}. */
export interface ApplyOptions extends ClusterOptions {
  readonly dir: string;
  /** Namespace for objects that name none; default the context's, else `default`. */
  readonly namespace?: string;
  /** How long to wait for the rollouts (ms); default 300,000. */
  readonly timeoutMs?: number;
  /** Status poll period (ms); default 2,000. */
  readonly pollMs?: number;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

function describeApiError(err: unknown, what: string): TrestleError {
  const e = err as { code?: number; body?: unknown; message?: string; cause?: { code?: string } };
  let reason = e.message ?? String(err);
  if (typeof e.body === 'string') {
    try {
      reason = (JSON.parse(e.body) as { message?: string }).message ?? reason;
    } catch {
      // keep the client's message
    }
  }
  const first = reason.split('\n')[0];
  const code = e.code === 401 ? 'UNAUTHENTICATED' : e.code === 403 ? 'PERMISSION_DENIED' : 'UNAVAILABLE';
  return new TrestleError(code, `${what}: ${first}`, {}, { cause: err });
}

/**
 * Applies every object of `dir` (server-side apply, field manager `trestle`, conflicts forced)
 * and waits until each Deployment has rolled out.
 *
 * @throws TrestleError `UNAVAILABLE` when the API server refuses or cannot be reached, or a
 *   rollout does not finish in time (saying how far it got).
 */
export async function applyFolder(o: ApplyOptions): Promise<{ applied: string[]; rollouts: RolloutState[] }> {
  const objects = await readManifestFolder(o.dir);
  const { kc, k8s } = await loadKubeConfig(o);
  const namespace = o.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const client = k8s.KubernetesObjectApi.makeApiClient(kc);
  const log = o.log ?? (() => undefined);
  const applied: string[] = [];
  const deployments: { name: string; namespace: string }[] = [];
  for (const obj of objects) {
    const ns = obj.metadata.namespace ?? namespace;
    const spec = { ...obj, metadata: { ...obj.metadata, namespace: ns } };
    const id = `${obj.kind.toLowerCase()}/${obj.metadata.name}`;
    try {
      await client.patch(spec, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply);
    } catch (err) {
      throw describeApiError(err, `applying ${id} to ${kc.getCurrentCluster()?.server ?? 'the cluster'} failed`);
    }
    applied.push(id);
    log(`applied ${id}`);
    if (obj.kind === 'Deployment') deployments.push({ name: obj.metadata.name, namespace: ns });
  }
  const deadline = Date.now() + (o.timeoutMs ?? 300_000);
  const rollouts: RolloutState[] = [];
  for (const d of deployments) {
    let last = '';
    for (;;) {
      let state: RolloutState;
      try {
        state = rolloutOf(
          await client.read<DeploymentLike & k8sModule.KubernetesObject>({
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: d.name, namespace: d.namespace },
          }),
        );
      } catch (err) {
        throw describeApiError(err, `reading deployment/${d.name} failed`);
      }
      const line = `deployment/${d.name}: ${state.updated}/${state.desired} updated, ${state.available} available`;
      if (line !== last) log(line);
      last = line;
      if (state.ready) {
        rollouts.push(state);
        break;
      }
      if (Date.now() >= deadline) {
        throw new TrestleError(
          'UNAVAILABLE',
          `the rollout of deployment/${d.name} did not finish in ${Math.round((o.timeoutMs ?? 300_000) / 1000)} s (${state.updated}/${state.desired} updated, ${state.available} available): see 'kubectl describe deployment/${d.name} -n ${d.namespace}'`,
        );
      }
      await new Promise((r) => setTimeout(r, o.pollMs ?? 2000));
    }
  }
  return { applied, rollouts };
}

/**
 * The rollout state of the Deployments in a manifests folder (`trestle deploy status`).
 */
export async function deploymentStatus(
  o: ClusterOptions & { dir: string; namespace?: string },
): Promise<RolloutState[]> {
  const objects = (await readManifestFolder(o.dir)).filter((x) => x.kind === 'Deployment');
  const { kc, k8s } = await loadKubeConfig(o);
  const namespace = o.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const client = k8s.KubernetesObjectApi.makeApiClient(kc);
  const states: RolloutState[] = [];
  for (const d of objects) {
    try {
      states.push(
        rolloutOf(
          await client.read<DeploymentLike & k8sModule.KubernetesObject>({
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: d.metadata.name, namespace: d.metadata.namespace ?? namespace },
          }),
        ),
      );
    } catch (err) {
      throw describeApiError(err, `reading deployment/${d.metadata.name} failed`);
    }
  }
  return states;
}
