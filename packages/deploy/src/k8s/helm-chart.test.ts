import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { helmChart, writeHelmChart } from './helm-chart.js';
import { validateObjects, type KubeObject } from './validate.js';

type Scope = Record<string, unknown>;

/**
 * Renders the subset of Helm's template language the chart uses, and throws on anything else
 * (so a template cannot use a construct this check would not render as Helm does).
 */
function render(template: string, scope: Scope): string {
  const lookup = (path: string): unknown => {
    if (!/^(\.[A-Za-z]\w*)+$/.test(path)) throw new Error(`unsupported expression '${path}'`);
    let v: unknown = scope;
    for (const k of path.slice(1).split('.')) {
      if (v === null || typeof v !== 'object' || !(k in v)) throw new Error(`${path}: no value '${k}'`);
      v = (v as Scope)[k];
    }
    return v;
  };
  const value = (expr: string): string => {
    const [path, ...pipes] = expr.split('|').map((s) => s.trim());
    let v = lookup(path!);
    for (const p of pipes) {
      if (p !== 'quote') throw new Error(`unsupported function '${p}'`);
      v = JSON.stringify(String(v));
    }
    return String(v);
  };
  const truthy = (v: unknown): boolean => !(v === false || v === 0 || v === '' || v === null || v === undefined);
  // Whitespace trimming as Helm does: '{{-' eats the whitespace before, '-}}' after.
  const text = template.replace(/\s*\{\{-\s*/g, '{{ ').replace(/\s*-\}\}\s*/g, ' }}');
  const stack: { on: boolean; taken: boolean }[] = [];
  const active = (): boolean => stack.every((s) => s.on);
  let out = '';
  let last = 0;
  for (const m of text.matchAll(/\{\{\s*(.*?)\s*\}\}/g)) {
    if (active()) out += text.slice(last, m.index);
    last = m.index + m[0].length;
    const action = m[1]!;
    if (action.startsWith('if ')) {
      const on = active() && truthy(lookup(action.slice(3).trim()));
      stack.push({ on, taken: on });
    } else if (action === 'else') {
      const top = stack.at(-1)!;
      top.on = !top.taken;
    } else if (action === 'end') {
      if (stack.pop() === undefined) throw new Error('end without if');
    } else if (active()) out += value(action);
  }
  if (stack.length > 0) throw new Error('if without end');
  return out + text.slice(last);
}

function renderChart(overrides: (v: Scope) => void = () => undefined): KubeObject[] {
  const files = helmChart();
  const values = parse(files.find((f) => f.path === 'values.yaml')!.content) as Scope;
  overrides(values);
  const chart = parse(files.find((f) => f.path === 'Chart.yaml')!.content) as Scope;
  const scope = {
    Values: values,
    Release: { Name: 'prod', Namespace: 'mlops' },
    Chart: { Name: chart['name'], Version: chart['version'], AppVersion: chart['appVersion'] },
  };
  const objects: KubeObject[] = [];
  for (const f of files.filter((x) => x.path.startsWith('templates/') && x.path.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(render(f.content, scope))) {
      if (doc.errors.length > 0) throw new Error(`${f.path}: ${doc.errors[0]!.message}`);
      const o = doc.toJS() as KubeObject | null;
      if (o !== null) objects.push(o);
    }
  }
  return objects;
}

const names = (objects: KubeObject[]): string[] => objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();

describe('trestle deploy helm', () => {
  it('renders, with the default values, valid objects for server, workers and serving', async () => {
    const objects = renderChart();
    expect(names(objects)).toEqual(
      [
        'ConfigMap/prod-config',
        'Secret/prod-db',
        'Deployment/prod-server',
        'Service/prod-server',
        'Deployment/prod-worker',
        'Deployment/prod-serving',
        'Service/prod-serving',
      ].sort(),
    );
    await validateObjects(objects);
    for (const o of objects) expect(o.metadata.namespace).toBe('mlops');
    const server = objects.find((o) => o.metadata.name === 'prod-server' && o.kind === 'Deployment') as unknown as {
      spec: { replicas: number; template: { spec: { containers: { envFrom: unknown[]; image: string }[] } } };
    };
    expect(server.spec.replicas).toBe(2);
    expect(server.spec.template.spec.containers[0]!.envFrom).toEqual([
      { configMapRef: { name: 'prod-config' } },
      { secretRef: { name: 'prod-db' } },
      { secretRef: { name: 'trestle-s3' } },
    ]);
    const config = objects.find((o) => o.kind === 'ConfigMap') as unknown as { data: Record<string, string> };
    expect(config.data).toMatchObject({
      TRESTLE_ARTIFACTS: 's3://trestle-artifacts/artifacts',
      TRESTLE_QUEUE: 'redis://redis:6379',
      TRESTLE_TRACKING_URI: 'http://prod-server:5000',
    });
    // Each Service selects the pods of its Deployment.
    for (const svc of objects.filter((o) => o.kind === 'Service') as unknown as {
      metadata: { name: string };
      spec: { selector: Record<string, string> };
    }[]) {
      const dep = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === svc.metadata.name) as unknown as {
        spec: { template: { metadata: { labels: Record<string, string> } } };
      };
      for (const [k, v] of Object.entries(svc.spec.selector)) expect(dep.spec.template.metadata.labels[k]).toBe(v);
    }
  });

  it('follows the values: an existing database Secret, no workers, no serving, auth, more replicas', async () => {
    const objects = renderChart((v) => {
      (v['postgresql'] as Scope)['existingSecret'] = 'pg-url';
      (v['workers'] as Scope)['enabled'] = false;
      (v['serving'] as Scope)['enabled'] = false;
      (v['server'] as Scope)['auth'] = true;
      (v['server'] as Scope)['replicas'] = 5;
    });
    await validateObjects(objects);
    expect(names(objects)).toEqual(['ConfigMap/prod-config', 'Deployment/prod-server', 'Service/prod-server']);
    const server = objects.find((o) => o.kind === 'Deployment') as unknown as {
      spec: { replicas: number; template: { spec: { containers: { envFrom: { secretRef?: { name: string } }[] }[] } } };
    };
    expect(server.spec.replicas).toBe(5);
    expect(server.spec.template.spec.containers[0]!.envFrom[1]).toEqual({ secretRef: { name: 'pg-url' } });
    expect((objects[0] as unknown as { data: Record<string, string> }).data['TRESTLE_AUTH']).toBe('1');
  });

  it('the renderer refuses what it does not know, so the templates stay in the subset', () => {
    expect(() => render('{{ include "x" . }}', {})).toThrow(/unsupported/);
    expect(() => render('{{ .Values.nope }}', { Values: {} })).toThrow(/no value 'nope'/);
    expect(() => render('{{ .Values.a | upper }}', { Values: { a: 'x' } })).toThrow(/unsupported function/);
  });

  it('writes the chart folder', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'helm-')), 'trestle');
    const r = await writeHelmChart({ out });
    expect(r.files).toContain('templates/server-deployment.yaml');
    expect((await readdir(out)).sort()).toEqual(['Chart.yaml', 'templates', 'values.yaml']);
    await expect(writeHelmChart({ out })).rejects.toThrow(/not empty/);
  });
});
