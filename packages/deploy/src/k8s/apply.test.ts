/**
 * The apply path against a small HTTP server speaking the few Kubernetes API endpoints it uses
 * (discovery, server-side apply PATCH, GET of a Deployment). No real API server can run here
 * (Debian packages no kube-apiserver, k3s or kind); this server plays the Deployment
 * controller by advancing a rollout by one pod per read.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderKubernetesFolder } from './k8s-folder.js';
import { writeOutputFolder } from '../out-dir.js';
import { applyFolder, deploymentStatus, loadKubeConfig } from './apply.js';

// The fake server handles arbitrary manifests; their shapes are checked by the schema tests.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType: string;
  auth: string;
}

const RESOURCES: Record<string, { name: string; kind: string }[]> = {
  '/api/v1': [
    { name: 'configmaps', kind: 'ConfigMap' },
    { name: 'services', kind: 'Service' },
  ],
  '/apis/apps/v1': [{ name: 'deployments', kind: 'Deployment' }],
  '/apis/autoscaling/v2': [{ name: 'horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler' }],
  '/apis/policy/v1': [{ name: 'poddisruptionbudgets', kind: 'PodDisruptionBudget' }],
};

function fakeApiServer(): {
  server: Server;
  requests: Recorded[];
  objects: Map<string, Obj>;
  stuck: Set<string>;
} {
  const requests: Recorded[] = [];
  const objects = new Map<string, Obj>();
  const stuck = new Set<string>();
  const body = async (req: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url!, 'http://x');
      requests.push({
        method: req.method!,
        path: url.pathname,
        query: url.searchParams,
        contentType: req.headers['content-type'] ?? '',
        auth: req.headers.authorization ?? '',
      });
      const json = (status: number, value: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      };
      if (req.headers.authorization !== 'Bearer t0ken') {
        return json(401, { kind: 'Status', status: 'Failure', message: 'Unauthorized', code: 401 });
      }
      const group = RESOURCES[url.pathname];
      if (req.method === 'GET' && group !== undefined) {
        return json(200, {
          kind: 'APIResourceList',
          groupVersion: url.pathname.replace(/^\/apis?\//, ''),
          resources: group.map((r) => ({ ...r, namespaced: true, singularName: '', verbs: ['get', 'patch'] })),
        });
      }
      const m = /^\/(?:api\/v1|apis\/[^/]+\/[^/]+)\/namespaces\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
      if (m === null) return json(404, { kind: 'Status', message: `no route ${url.pathname}`, code: 404 });
      const key = `${m[1]}/${m[2]}/${m[3]}`;
      if (req.method === 'PATCH') {
        const obj = parse(await body(req)) as Obj;
        const old = objects.get(key);
        const generation = (old?.['metadata']?.generation ?? 0) + 1;
        obj['metadata'] = { ...obj['metadata'], generation };
        obj['status'] = { observedGeneration: generation - 1, replicas: 0, updatedReplicas: 0, availableReplicas: 0 };
        objects.set(key, obj);
        return json(200, obj);
      }
      const obj = objects.get(key);
      if (obj === undefined) return json(404, { kind: 'Status', message: `${m[3]} not found`, code: 404 });
      if (req.method === 'GET' && m[2] === 'deployments' && !stuck.has(m[3]!)) {
        // The controller: one more pod updated and available per read.
        const s = obj['status'];
        const want = obj['spec'].replicas as number;
        s.observedGeneration = obj['metadata'].generation;
        s.updatedReplicas = Math.min(want, (s.updatedReplicas as number) + 1);
        s.availableReplicas = s.updatedReplicas;
        s.replicas = s.updatedReplicas;
      }
      return json(200, obj);
    })();
  });
  return { server, requests, objects, stuck };
}

describe('--apply and status against an API server', () => {
  const api = fakeApiServer();
  let work: string;
  let kubeconfig: string;
  let dir: string;

  beforeAll(async () => {
    await new Promise<void>((r) => api.server.listen(0, '127.0.0.1', r));
    const port = (api.server.address() as { port: number }).port;
    work = await mkdtemp(join(tmpdir(), 'deploy-apply-'));
    kubeconfig = join(work, 'kubeconfig');
    await writeFile(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'test', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'ci', user: { token: 't0ken' } }],
        // Plain HTTP to the local test server: the client allows it only with TLS checks off.
        contexts: [{ name: 'test', context: { cluster: 'test', user: 'ci', namespace: 'ml' } }],
        'current-context': 'test',
      }),
    );
    dir = join(work, 'k8s');
    const model = {
      uri: 'models:/m@champion',
      name: 'm',
      version: '4',
      pinnedUri: 'models:/m/4',
      digest: 'sha256:' + 'a'.repeat(64),
    };
    const { files } = await renderKubernetesFolder({ kind: 'trestle-deploy-k8s', options: { replicas: 3 }, model });
    await writeOutputFolder(dir, files);
  });
  afterAll(async () => {
    await new Promise((r) => api.server.close(r));
  });

  it('applies every object server-side as trestle, then waits for the rollout with progress lines', async () => {
    const lines: string[] = [];
    const r = await applyFolder({ dir, kubeconfig, pollMs: 10, log: (l) => lines.push(l) });
    expect(r.applied).toEqual([
      'configmap/m-config',
      'deployment/m',
      'service/m',
      'horizontalpodautoscaler/m',
      'poddisruptionbudget/m',
    ]);
    const patches = api.requests.filter((q) => q.method === 'PATCH');
    expect(patches).toHaveLength(5);
    for (const p of patches) {
      expect(p.contentType).toMatch(/^application\/apply-patch\+yaml/);
      expect(p.query.get('fieldManager')).toBe('trestle');
      expect(p.query.get('force')).toBe('true');
      expect(p.path).toMatch(/\/namespaces\/ml\//);
    }
    expect(
      api.objects.get('ml/deployments/m')?.['spec'].template.metadata.annotations['trestle.dev/model-digest'],
    ).toBe('sha256:' + 'a'.repeat(64));
    expect(lines).toContain('deployment/m: 3/3 updated, 3 available');
    expect(lines.filter((l) => l.startsWith('deployment/m:')).length).toBeGreaterThan(1);
    expect(r.rollouts).toEqual([{ name: 'm', desired: 3, updated: 3, available: 3, ready: true, modelVersion: '4' }]);
    expect(await deploymentStatus({ dir, kubeconfig })).toEqual(r.rollouts);
  });

  it('a rollout that does not finish is an error saying how far it got', async () => {
    api.stuck.add('m');
    try {
      await expect(applyFolder({ dir, kubeconfig, pollMs: 10, timeoutMs: 200 })).rejects.toThrow(
        /the rollout of deployment\/m did not finish in 0 s \(0\/3 updated, 0 available\): see 'kubectl describe deployment\/m -n ml'/,
      );
    } finally {
      api.stuck.delete('m');
    }
  });

  it('a refused token is one line naming the object', async () => {
    const bad = join(work, 'bad-token');
    await writeFile(
      bad,
      (await (await import('node:fs/promises')).readFile(kubeconfig, 'utf8')).replace('t0ken', 'nope'),
    );
    await expect(applyFolder({ dir, kubeconfig: bad, pollMs: 10 })).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      message: expect.stringMatching(
        /^applying configmap\/m-config to http:\/\/127\.0\.0\.1:\d+ failed: .*Unauthorized/,
      ),
    });
  });

  it('a kubeconfig that does not parse, or names no cluster, is one clear line', async () => {
    const garbage = join(work, 'garbage');
    await writeFile(garbage, 'clusters: [unclosed\n  : :');
    await expect(loadKubeConfig({ kubeconfig: garbage })).rejects.toThrow(/^kubeconfig .*garbage does not parse: /);
    const empty = join(work, 'empty');
    await writeFile(empty, stringify({ apiVersion: 'v1', kind: 'Config', clusters: [], contexts: [], users: [] }));
    await expect(loadKubeConfig({ kubeconfig: empty })).rejects.toThrow(/has no cluster for context/);
    await expect(loadKubeConfig({ kubeconfig: join(work, 'missing') })).rejects.toThrow(/does not parse/);
  });
});
