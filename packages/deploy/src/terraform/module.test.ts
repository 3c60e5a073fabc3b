import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLOUD_NAMES, terraformModule, writeTerraformModule } from './module.js';

// Its type declarations pull in the DOM library (`/// <reference lib="dom" />`), which breaks
// the type checking of the rest of the repository: loaded by a variable specifier, typed here.
const HCL2JSON: string = '@cdktf/hcl2json';
const hcl = (await import(HCL2JSON)) as {
  parse: (file: string, text: string) => Promise<Record<string, unknown>>;
  getReferencesInExpression: (file: string, expression: string) => Promise<{ value: string }[]>;
};
const { parse, getReferencesInExpression } = hcl;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every string in a parsed HCL document, with where it is (for the failure message). */
function strings(value: Json, at: string, out: { at: string; text: string }[]): void {
  if (typeof value === 'string') out.push({ at, text: value });
  else if (Array.isArray(value)) value.forEach((v, i) => strings(v, `${at}[${i}]`, out));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) strings(v, `${at}.${k}`, out);
  }
}

/** Terraform's own names that are not blocks of the module. */
const BUILTIN = /^(path|terraform|count|each|self)\./;

/** Parses every file; returns what the module declares and every reference it makes. */
async function analyse(files: { path: string; content: string }[]): Promise<{
  declared: Set<string>;
  refs: { at: string; ref: string }[];
  unresolved: string[];
}> {
  const declared = new Set<string>();
  const docs: { file: string; doc: Record<string, Json> }[] = [];
  for (const f of files) {
    const doc = (await parse(f.path, f.content)) as Record<string, Json>;
    docs.push({ file: f.path, doc });
    for (const name of Object.keys((doc['variable'] ?? {}) as object)) declared.add(`var.${name}`);
    for (const block of (doc['locals'] ?? []) as Record<string, Json>[]) {
      for (const name of Object.keys(block)) declared.add(`local.${name}`);
    }
    for (const [type, byName] of Object.entries((doc['resource'] ?? {}) as Record<string, object>)) {
      for (const name of Object.keys(byName)) declared.add(`${type}.${name}`);
    }
    for (const [type, byName] of Object.entries((doc['data'] ?? {}) as Record<string, object>)) {
      for (const name of Object.keys(byName)) declared.add(`data.${type}.${name}`);
    }
    for (const name of Object.keys((doc['module'] ?? {}) as object)) declared.add(`module.${name}`);
  }
  const refs: { at: string; ref: string }[] = [];
  for (const { file, doc } of docs) {
    const found: { at: string; text: string }[] = [];
    // A variable's `type` is a type expression, not a reference.
    const { variable: _types, ...rest } = doc;
    strings(rest, file, found);
    for (const s of found.filter((x) => x.text.includes('${'))) {
      for (const r of await getReferencesInExpression(file, s.text)) refs.push({ at: s.at, ref: r.value });
    }
  }
  const unresolved = refs
    .map((r) => r.ref)
    .filter((ref) => {
      if (BUILTIN.test(ref)) return false;
      const parts = ref.split('.');
      const key = parts
        .slice(0, parts[0] === 'data' ? 3 : 2)
        .join('.')
        .replace(/\[.*$/, '');
      return !declared.has(key);
    });
  return { declared, refs, unresolved };
}

describe.each(CLOUD_NAMES)('trestle deploy terraform --cloud %s', (cloud) => {
  it('parses, and every reference resolves to a block the module declares', async () => {
    const files = terraformModule(cloud).filter((f) => f.path.endsWith('.tf'));
    expect(files.map((f) => f.path).sort()).toEqual(
      ['kubernetes.tf', 'main.tf', 'outputs.tf', 'variables.tf', 'versions.tf'].sort(),
    );
    const { declared, refs, unresolved } = await analyse(files);
    expect(refs.length).toBeGreaterThan(40);
    expect(unresolved).toEqual([]);
    // The parts the issue asks for.
    const all = new Set(refs.map((r) => r.ref.split('.').slice(0, 2).join('.')));
    for (const d of [
      'kubernetes_deployment_v1.server',
      'kubernetes_deployment_v1.serving',
      'kubernetes_deployment_v1.worker',
      'kubernetes_service_v1.server',
      'kubernetes_service_v1.serving',
    ]) {
      expect(declared).toContain(d);
    }
    const storage = { aws: 'aws_s3_bucket', gcp: 'google_storage_bucket', azure: 'azurerm_storage_share' }[cloud];
    const database = {
      aws: 'aws_db_instance',
      gcp: 'google_sql_database_instance',
      azure: 'azurerm_postgresql_flexible_server',
    }[cloud];
    expect([...declared].some((d) => d.startsWith(`${storage}.`))).toBe(true);
    expect([...declared].some((d) => d.startsWith(`${database}.`))).toBe(true);
    // Every variable is used somewhere.
    for (const v of [...declared].filter((d) => d.startsWith('var.'))) expect(all, v).toContain(v);
  });

  it('a broken reference is caught by the same check', async () => {
    const files = terraformModule(cloud)
      .filter((f) => f.path.endsWith('.tf'))
      .map((f) => ({
        ...f,
        content: f.content
          .replace('= var.server_image', '= var.sever_image')
          .replace('local.database_url\n', 'local.db_url\n'),
      }));
    expect([...new Set((await analyse(files)).unresolved)].sort()).toEqual(['local.db_url', 'var.sever_image']);
  });
});

describe('writeTerraformModule', () => {
  it('writes the files, refuses an unknown cloud and a non-empty folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tf-'));
    const out = join(dir, 'infra');
    const r = await writeTerraformModule({ cloud: 'gcp', out });
    expect((await readdir(out)).sort()).toEqual([...r.files].sort());
    expect(await readFile(join(out, 'main.tf'), 'utf8')).toContain('google_sql_database_instance');
    await expect(writeTerraformModule({ cloud: 'gcp', out })).rejects.toThrow(/not empty/);
    await expect(writeTerraformModule({ cloud: 'ibm', out: join(dir, 'x') })).rejects.toThrow(
      /unknown cloud 'ibm': choose aws, gcp, azure/,
    );
    await expect(readdir(join(dir, 'x'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
