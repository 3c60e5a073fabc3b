/**
 * `trestle deploy k8s` and `trestle deploy sync`: the manifests folder (one YAML file per
 * object, a `kustomization.yaml`, and `trestle-deploy.json` recording what was resolved), and
 * its rewrite when the registry moved.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TrestleError } from '@trestle/core';
import { stringify } from 'yaml';
import { isNonEmptyFolder, writeOutputFolder, type GeneratedFile } from '../out-dir.js';
import { kubernetesManifests, type KubernetesDeployOptions } from './manifests.js';
import type { ModelResolver, ResolvedModel } from './resolve-model.js';
import { validateObjects, type KubeObject } from './validate.js';

/** The file that records what a manifests folder was written from. */
export const STATE_FILE = 'trestle-deploy.json';

/** The generator's inputs apart from the models (kept in {@link STATE_FILE}). */
export interface KubernetesFolderOptions {
  readonly image?: string;
  readonly replicas?: number;
  readonly maxReplicas?: number;
  readonly namespace?: string;
  readonly trackingUri?: string;
  readonly canaryWeight?: number;
}

/** What {@link STATE_FILE} holds. */
export interface KubernetesFolderState {
  readonly kind: 'trestle-deploy-k8s';
  readonly options: KubernetesFolderOptions;
  readonly model: ResolvedModel;
  readonly canary?: ResolvedModel;
}

function fileName(o: KubeObject): string {
  const short: Record<string, string> = { HorizontalPodAutoscaler: 'hpa', PodDisruptionBudget: 'pdb' };
  const canary = /-canary(-config)?$/.test(o.metadata.name) ? '-canary' : '';
  return `${short[o.kind] ?? o.kind.toLowerCase()}${canary}.yaml`;
}

/** The folder's objects and files for `state`: the same state gives the same bytes. */
export async function renderKubernetesFolder(
  state: KubernetesFolderState,
): Promise<{ objects: KubeObject[]; files: GeneratedFile[] }> {
  const o = state.options;
  const canary = state.canary;
  const deploy: KubernetesDeployOptions = {
    model: state.model,
    ...(canary === undefined ? {} : { canary: { model: canary, weight: o.canaryWeight ?? 10 } }),
    ...(o.image === undefined ? {} : { image: o.image }),
    ...(o.replicas === undefined ? {} : { replicas: o.replicas }),
    ...(o.maxReplicas === undefined ? {} : { maxReplicas: o.maxReplicas }),
    ...(o.namespace === undefined ? {} : { namespace: o.namespace }),
    ...(o.trackingUri === undefined ? {} : { trackingUri: o.trackingUri }),
  };
  const objects = kubernetesManifests(deploy);
  await validateObjects(objects);
  const header = (m: ResolvedModel): string =>
    // No version here: a move rewrites only the files that pin it (small GitOps diffs).
    `# Written by 'trestle deploy k8s' from ${m.uri}.\n` +
    `# 'trestle deploy sync' rewrites it when the registry moves; edit the options there, not here.\n`;
  const files = objects.map((obj) => ({
    path: fileName(obj),
    content: header(/-canary/.test(obj.metadata.name) && canary !== undefined ? canary : state.model) + stringify(obj),
  }));
  files.push({
    path: 'kustomization.yaml',
    content: stringify({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: files.map((f) => f.path),
    }),
  });
  files.push({ path: STATE_FILE, content: `${JSON.stringify(state, null, 2)}\n` });
  return { objects, files };
}

/** Options of {@link writeKubernetesFolder}. */
export interface WriteKubernetesOptions extends KubernetesFolderOptions {
  readonly modelUri: string;
  readonly canaryUri?: string;
  readonly out: string;
  readonly force?: boolean;
  readonly resolver: ModelResolver;
}

/** What was written. */
export interface KubernetesFolderResult {
  readonly out: string;
  readonly files: string[];
  readonly objects: { kind: string; name: string }[];
  readonly model: ResolvedModel;
  readonly canary?: ResolvedModel;
}

function checkOptions(o: KubernetesFolderOptions & { canaryUri?: string }): void {
  const bad = (m: string): never => {
    throw new TrestleError('INVALID_ARGUMENT', m);
  };
  if (o.replicas !== undefined && (!Number.isSafeInteger(o.replicas) || o.replicas < 1)) bad('replicas must be ≥ 1');
  if (o.canaryUri !== undefined) {
    if (o.canaryWeight === undefined || o.canaryWeight < 1 || o.canaryWeight > 99) {
      bad('a canary needs a weight from 1 to 99 percent');
    }
    if ((o.replicas ?? 2) < 2) bad('a canary needs at least 2 replicas (one stable pod, one canary pod)');
  }
}

/** A model deployable to a cluster: pods fetch it from the tracking server, so a local folder will not do. */
async function resolveDeployable(resolver: ModelResolver, uri: string): Promise<ResolvedModel> {
  const m = await resolver.resolve(uri);
  if (!/^(models|runs):\//.test(m.pinnedUri)) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `'${uri}' is a local folder, which pods cannot fetch: register it (trestle train … --register NAME) and deploy models:/NAME@ALIAS`,
    );
  }
  return m;
}

/**
 * Resolves the models, generates and validates the manifests, and writes the folder at once.
 *
 * @throws TrestleError `NOT_FOUND`/`INVALID_ARGUMENT` for a URI that does not resolve,
 *   `ALREADY_EXISTS` for a non-empty folder without `force` (nothing written either way).
 * @example await writeKubernetesFolder({ modelUri: 'models:/flights@champion', out: 'deploy/k8s', resolver });
 */
export async function writeKubernetesFolder(o: WriteKubernetesOptions): Promise<KubernetesFolderResult> {
  checkOptions(o);
  // Refused before the registry is read (writeOutputFolder checks again when it writes).
  if (o.force !== true && (await isNonEmptyFolder(o.out))) await writeOutputFolder(o.out, []);
  const model = await resolveDeployable(o.resolver, o.modelUri);
  const canary = o.canaryUri === undefined ? undefined : await resolveDeployable(o.resolver, o.canaryUri);
  const options: KubernetesFolderOptions = {
    ...(o.image === undefined ? {} : { image: o.image }),
    ...(o.replicas === undefined ? {} : { replicas: o.replicas }),
    ...(o.maxReplicas === undefined ? {} : { maxReplicas: o.maxReplicas }),
    ...(o.namespace === undefined ? {} : { namespace: o.namespace }),
    ...(o.trackingUri === undefined ? {} : { trackingUri: o.trackingUri }),
    ...(o.canaryWeight === undefined || canary === undefined ? {} : { canaryWeight: o.canaryWeight }),
  };
  const state: KubernetesFolderState = {
    kind: 'trestle-deploy-k8s',
    options,
    model,
    ...(canary === undefined ? {} : { canary }),
  };
  const { objects, files } = await renderKubernetesFolder(state);
  await writeOutputFolder(o.out, files, { force: o.force ?? false });
  return {
    out: o.out,
    files: files.map((f) => f.path),
    objects: objects.map((x) => ({ kind: x.kind, name: x.metadata.name })),
    model,
    ...(canary === undefined ? {} : { canary }),
  };
}

/** Reads {@link STATE_FILE} of a folder written by `trestle deploy k8s`. */
export async function readKubernetesFolderState(dir: string): Promise<KubernetesFolderState> {
  let text: string;
  try {
    text = await readFile(join(dir, STATE_FILE), 'utf8');
  } catch {
    throw new TrestleError(
      'NOT_FOUND',
      `${dir} has no ${STATE_FILE}: it was not written by 'trestle deploy k8s' (write it first with 'trestle deploy k8s MODEL_URI --out ${dir}')`,
      { dir },
    );
  }
  let state: Partial<KubernetesFolderState> | null;
  try {
    state = JSON.parse(text) as Partial<KubernetesFolderState> | null;
  } catch {
    state = null;
  }
  if (state?.kind !== 'trestle-deploy-k8s' || typeof state.model?.uri !== 'string') {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `${join(dir, STATE_FILE)} is damaged: write the folder again with --force`,
    );
  }
  return state as KubernetesFolderState;
}

/** One model that moved in the registry since the folder was written. */
export interface ModelMove {
  readonly role: 'stable' | 'canary';
  readonly uri: string;
  readonly from: { version?: string; digest: string };
  readonly to: { version?: string; digest: string };
}

/** What {@link syncKubernetesFolder} did. */
export interface SyncResult {
  readonly out: string;
  readonly moves: ModelMove[];
  /** Files rewritten (empty when nothing moved). */
  readonly changed: string[];
}

/**
 * Resolves the folder's model URIs again and rewrites the files that differ (each file
 * replaced atomically). Nothing moved: nothing is written.
 *
 * @example const { moves, changed } = await syncKubernetesFolder('deploy/k8s', resolver);
 */
export async function syncKubernetesFolder(dir: string, resolver: ModelResolver): Promise<SyncResult> {
  const before = await readKubernetesFolderState(dir);
  const model = await resolveDeployable(resolver, before.model.uri);
  const canary = before.canary === undefined ? undefined : await resolveDeployable(resolver, before.canary.uri);
  const after: KubernetesFolderState = { ...before, model, ...(canary === undefined ? {} : { canary }) };
  const moves: ModelMove[] = [];
  const moved = (role: ModelMove['role'], a: ResolvedModel, b: ResolvedModel): void => {
    if (a.version !== b.version || a.digest !== b.digest) {
      const at = (m: ResolvedModel): ModelMove['from'] => ({
        ...(m.version === undefined ? {} : { version: m.version }),
        digest: m.digest,
      });
      moves.push({ role, uri: a.uri, from: at(a), to: at(b) });
    }
  };
  moved('stable', before.model, model);
  if (before.canary !== undefined && canary !== undefined) moved('canary', before.canary, canary);
  const changed: string[] = [];
  for (const f of (await renderKubernetesFolder(after)).files) {
    const path = join(dir, f.path);
    const old = await readFile(path, 'utf8').catch(() => undefined);
    if (old === f.content) continue;
    const tmp = `${path}.tmp-${process.pid}`;
    try {
      await writeFile(tmp, f.content);
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    changed.push(f.path);
  }
  return { out: dir, moves, changed };
}
