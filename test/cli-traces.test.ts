import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, traceArtifactKey } from '@trestle/core';
import { openStores } from '@trestle/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';

const hex = (n: number): string => n.toString(16).padStart(32, '0');

describe('trestle traces', () => {
  let home: string;
  let env: Record<string, string>;
  let exp: string;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'trestle-cli-traces-'));
    env = { TRESTLE_HOME: home };
    // What `trestle server` records when an MLflow client exports two traces.
    const { metadata, artifacts } = await openStores(loadConfig({}, env));
    try {
      exp = (await metadata.createExperiment({ name: 'agent' })).experimentId;
      await metadata.traces.startTrace({
        traceId: `tr-${hex(1)}`,
        experimentId: exp,
        requestTime: Date.UTC(2025, 5, 1, 10),
        executionDuration: 1500,
        state: 'OK',
        requestPreview: '{"q": "hi"}',
        responsePreview: '"hello"',
        metadata: { 'mlflow.sourceRun': 'abc123' },
        tags: { 'mlflow.traceName': 'predict' },
      });
      await metadata.traces.startTrace({
        traceId: `tr-${hex(2)}`,
        experimentId: exp,
        requestTime: Date.UTC(2025, 5, 1, 11),
        executionDuration: 20,
        state: 'ERROR',
        tags: { 'mlflow.traceName': 'chat' },
      });
      const spans = {
        spans: [
          { name: 'predict', span_id: 'a', parent_span_id: null, start_time_unix_nano: 0, end_time_unix_nano: 1.5e9 },
          { name: 'retrieve', span_id: 'b', parent_span_id: 'a', start_time_unix_nano: 1e8, end_time_unix_nano: 6e8 },
        ],
      };
      await artifacts.put(traceArtifactKey(exp, `tr-${hex(1)}`, 'traces.json'), Buffer.from(JSON.stringify(spans)));
    } finally {
      await metadata.close();
      await artifacts.close();
    }
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('lists traces newest first, as a table and as JSON, with a filter', async () => {
    const listed = await runCli(['traces', 'list'], env);
    expect(listed.code, listed.stderr).toBe(0);
    const lines = listed.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^TRACE ID\s+EXPERIMENT\s+STARTED\s+DURATION\s+STATE\s+NAME\s+RUN$/);
    expect(lines[1]).toMatch(new RegExp(`^tr-${hex(2)}\\s+${exp}\\s.*20ms\\s+ERROR\\s+chat\\s+-$`));
    expect(lines[2]).toMatch(new RegExp(`^tr-${hex(1)}\\s+${exp}\\s.*1\\.5s\\s+OK\\s+predict\\s+abc123$`));

    const json = await runCli(
      ['traces', 'list', '--experiment', 'agent', '--filter', "trace.status = 'OK'", '--json'],
      env,
    );
    expect(json.code, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout) as { traces: { traceId: string; state: string }[] };
    expect(parsed.traces.map((t) => t.traceId)).toEqual([`tr-${hex(1)}`]);
  });

  it('shows a trace with its span tree, and says when it has no spans', async () => {
    const shown = await runCli(['traces', 'show', `tr-${hex(1)}`], env);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`Trace tr-${hex(1)} (experiment ${exp})`);
    expect(shown.stdout).toContain('mlflow.sourceRun = abc123');
    expect(shown.stdout).toMatch(/Spans \(2\):\n {2}predict {2}1\.5s\n {4}retrieve {2}500ms/);
    const json = JSON.parse((await runCli(['traces', 'show', `tr-${hex(1)}`, '--json'], env)).stdout) as {
      trace: { requestPreview: string };
      spans: { name: string }[];
    };
    expect(json.trace.requestPreview).toBe('{"q": "hi"}');
    expect(json.spans.map((s) => s.name)).toEqual(['predict', 'retrieve']);
    const bare = await runCli(['traces', 'show', `tr-${hex(2)}`], env);
    expect(bare.stdout).toContain('Spans: none uploaded (traces.json is missing)');
  });

  it('deletes traces, and names the list command for an unknown one', async () => {
    const deleted = await runCli(['traces', 'delete', `tr-${hex(2)}`], env);
    expect(deleted).toMatchObject({ code: 0, stdout: `Deleted trace(s) tr-${hex(2)}.\n` });
    const after = JSON.parse((await runCli(['traces', 'list', '--json'], env)).stdout) as { traces: unknown[] };
    expect(after.traces).toHaveLength(1);
    const missing = await runCli(['traces', 'show', `tr-${hex(2)}`], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/does not exist in this store; 'trestle traces list'/);
  });

  it('has --help, and refuses bad flags with exit code 2 and one line', async () => {
    const help = await runCli(['traces', 'list', '--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--filter');
    const bad = await runCli(['traces', 'list', '--max-results', '0'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    const tooMany = await runCli(['traces', 'list', '--max-results', '501'], env);
    expect(tooMany.code).toBe(2);
  });
});
