import { mkdir, mkdtemp, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type TrestleConfig } from '@trestle/core';
import { Trestle } from '@trestle/client';
import { parse, parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncKubernetesFolder, writeKubernetesFolder, STATE_FILE } from './k8s-folder.js';
import { canaryReplicas } from './manifests.js';
import { modelPackageDigest, registryResolver, type ModelResolver } from './resolve-model.js';
import { validateObjects, type KubeObject } from './validate.js';

/** A model package folder whose bytes depend on `seed` (another version). */
async function packageFolder(seed: number): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'deploy-pkg-')), 'model');
  await mkdir(join(dir, 'sub'), { recursive: true });
  await writeFile(join(dir, 'trestle-model.json'), JSON.stringify({ flavor: 'builtin', seed }));
  await writeFile(join(dir, 'sub/model.json'), JSON.stringify({ weights: [seed, seed * 2] }));
  return dir;
}

async function readObjects(dir: string): Promise<KubeObject[]> {
  const objects: KubeObject[] = [];
  for (const f of (await readdir(dir)).filter((x) => x.endsWith('.yaml') && x !== 'kustomization.yaml')) {
    for (const doc of parseAllDocuments(await readFile(join(dir, f), 'utf8'))) objects.push(doc.toJS() as KubeObject);
  }
  return objects;
}

// The tests read deep into generated specs whose shapes the schema validation already checks.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Spec = any;
const byKind = (objects: KubeObject[], kind: string, name?: string): KubeObject & { spec: Spec } =>
  objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name)) as KubeObject & {
    spec: Spec;
  };

describe('trestle deploy k8s, from a real embedded registry', () => {
  let config: TrestleConfig;
  let resolver: ModelResolver;
  let work: string;
  const digests: string[] = [];

  beforeAll(async () => {
    const home = await mkdtemp(join(tmpdir(), 'deploy-k8s-home-'));
    work = await mkdtemp(join(tmpdir(), 'deploy-k8s-out-'));
    config = loadConfig({}, { TRESTLE_HOME: home });
    const trestle = await Trestle.connect({ config });
    for (const seed of [1, 2]) {
      const pkg = await packageFolder(seed);
      digests.push(await modelPackageDigest(pkg));
      const run = await trestle.startRun({ experiment: 'deploy' });
      await run.logArtifact(pkg, 'model');
      await run.end();
      await trestle.registerModel('Flights Delay', `runs:/${run.id}/model`, {
        runId: run.id,
        ...(seed === 1 ? { aliases: ['champion'] } : { aliases: ['challenger'] }),
      });
    }
    await trestle.close();
    resolver = registryResolver(config);
  });
  afterAll(async () => {
    await resolver.close();
  });

  it('writes valid manifests pinned to the alias version and its package digest', async () => {
    const out = join(work, 'k8s');
    const r = await writeKubernetesFolder({
      modelUri: 'models:/Flights Delay@champion',
      out,
      resolver,
      replicas: 3,
      image: 'registry.example/flights:1',
    });
    expect(r.model).toMatchObject({ name: 'Flights Delay', version: '1', alias: 'champion', digest: digests[0] });
    expect(digests[0]).not.toBe(digests[1]);
    const objects = await readObjects(out);
    expect(objects.map((o) => o.kind).sort()).toEqual(
      ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Service'].sort(),
    );
    await validateObjects(objects);
    const dep = byKind(objects, 'Deployment');
    expect(dep.metadata.name).toBe('flights-delay');
    expect(dep.spec.replicas).toBe(3);
    expect(dep.spec.strategy).toMatchObject({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0 } });
    const pod = dep.spec.template.spec;
    const c = pod.containers[0];
    expect(c.image).toBe('registry.example/flights:1');
    expect(c.livenessProbe.httpGet.path).toBe('/v2/health/live');
    expect(c.readinessProbe.httpGet.path).toBe('/v2/health/ready');
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true });
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(c.resources.requests.cpu).toBeDefined();
    expect(dep.spec.template.metadata.annotations['trestle.dev/model-digest']).toBe(digests[0]);
    const cm = byKind(objects, 'ConfigMap') as unknown as { data: Record<string, string> };
    expect(cm.data['TRESTLE_MODEL_URI']).toBe('models:/Flights Delay/1');
    expect(c.envFrom[0].configMapRef.name).toBe('flights-delay-config');
    // The Service, autoscaler and budget all point at the Deployment's pods.
    expect(byKind(objects, 'Service').spec.selector).toEqual({ 'app.kubernetes.io/name': 'flights-delay' });
    expect(dep.spec.template.metadata.labels['app.kubernetes.io/name']).toBe('flights-delay');
    expect(byKind(objects, 'HorizontalPodAutoscaler').spec.scaleTargetRef.name).toBe('flights-delay');
    expect(byKind(objects, 'PodDisruptionBudget').spec.selector.matchLabels['app.kubernetes.io/name']).toBe(
      'flights-delay',
    );
    const kustomization = parse(await readFile(join(out, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    expect(kustomization.resources.sort()).toEqual(
      (await readdir(out)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort(),
    );
    // The validation catches a broken object.
    const broken = structuredClone(dep);
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'eighty';
    await expect(validateObjects([broken])).rejects.toThrow(/Deployment flights-delay is not valid/);
  });

  it('a canary takes its share of the pods behind the one Service', async () => {
    const out = join(work, 'canary');
    await writeKubernetesFolder({
      modelUri: 'models:/Flights Delay@champion',
      canaryUri: 'models:/Flights Delay@challenger',
      canaryWeight: 20,
      replicas: 10,
      out,
      resolver,
    });
    const objects = await readObjects(out);
    await validateObjects(objects);
    const stable = byKind(objects, 'Deployment', 'flights-delay');
    const canary = byKind(objects, 'Deployment', 'flights-delay-canary');
    expect([stable.spec.replicas, canary.spec.replicas]).toEqual([8, 2]);
    expect(canary.spec.template.metadata.annotations['trestle.dev/model-digest']).toBe(digests[1]);
    const cm = byKind(objects, 'ConfigMap', 'flights-delay-canary-config') as unknown as {
      data: Record<string, string>;
    };
    expect(cm.data['TRESTLE_MODEL_URI']).toBe('models:/Flights Delay/2');
    const selector = byKind(objects, 'Service').spec.selector as Record<string, string>;
    for (const d of [stable, canary]) {
      for (const [k, v] of Object.entries(selector)) expect(d.spec.template.metadata.labels[k]).toBe(v);
    }
    expect(stable.spec.selector.matchLabels['trestle.dev/track']).toBe('stable');
    expect(canary.spec.selector.matchLabels['trestle.dev/track']).toBe('canary');
    expect([canaryReplicas(10, 1), canaryReplicas(2, 50), canaryReplicas(3, 99)]).toEqual([1, 1, 2]);
  });

  it('sync rewrites the manifests when the alias moves, and nothing when it has not', async () => {
    const out = join(work, 'gitops');
    await writeKubernetesFolder({ modelUri: 'models:/Flights Delay@champion', out, resolver });
    const mtimes = async (): Promise<Record<string, number>> =>
      Object.fromEntries(
        await Promise.all((await readdir(out)).map(async (f) => [f, (await stat(join(out, f))).mtimeMs] as const)),
      );
    const before = await mtimes();
    const idle = await syncKubernetesFolder(out, resolver);
    expect(idle).toMatchObject({ moves: [], changed: [] });
    expect(await mtimes()).toEqual(before);

    const trestle = await Trestle.connect({ config });
    await trestle.setAlias('Flights Delay', 'champion', 2);
    await trestle.close();
    const moved = await syncKubernetesFolder(out, resolver);
    expect(moved.moves).toEqual([
      {
        role: 'stable',
        uri: 'models:/Flights Delay@champion',
        from: { version: '1', digest: digests[0] },
        to: { version: '2', digest: digests[1] },
      },
    ]);
    expect(moved.changed.sort()).toEqual(['configmap.yaml', 'deployment.yaml', STATE_FILE].sort());
    const objects = await readObjects(out);
    await validateObjects(objects);
    const dep = byKind(objects, 'Deployment');
    expect(dep.metadata.labels!['trestle.dev/model-version']).toBe('2');
    expect(dep.spec.template.metadata.annotations['trestle.dev/model-digest']).toBe(digests[1]);
    expect(
      (byKind(objects, 'ConfigMap') as unknown as { data: Record<string, string> }).data['TRESTLE_MODEL_URI'],
    ).toBe('models:/Flights Delay/2');
    expect(await syncKubernetesFolder(out, resolver)).toMatchObject({ moves: [], changed: [] });
  });

  it('refuses a non-empty folder without force, leaving it untouched; replaces it with force', async () => {
    const out = join(work, 'taken');
    await mkdir(out);
    await writeFile(join(out, 'mine.txt'), 'keep');
    await expect(writeKubernetesFolder({ modelUri: 'models:/Flights Delay/1', out, resolver })).rejects.toThrow(
      /exists and is not empty: choose an empty folder or pass --force/,
    );
    expect(await readdir(out)).toEqual(['mine.txt']);
    await writeKubernetesFolder({ modelUri: 'models:/Flights Delay/1', out, resolver, force: true });
    expect(await readdir(out)).toContain('deployment.yaml');
    expect(await readdir(out)).not.toContain('mine.txt');
    // No staging folder is left beside it.
    expect((await readdir(work)).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('an unresolvable model URI writes nothing and says what is wrong', async () => {
    const out = join(work, 'never');
    await expect(writeKubernetesFolder({ modelUri: 'models:/Flights Delay@nope', out, resolver })).rejects.toThrow(
      /nope/,
    );
    await expect(writeKubernetesFolder({ modelUri: 'models:/Nobody/1', out, resolver })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(writeKubernetesFolder({ modelUri: 'models:/x/abc', out, resolver })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    const folder = await packageFolder(3);
    await expect(writeKubernetesFolder({ modelUri: folder, out, resolver })).rejects.toThrow(/pods cannot fetch/);
    await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
