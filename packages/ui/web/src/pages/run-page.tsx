/**
 * One run: what it is (status, times, lineage), its metrics as charts, params, tags, the
 * datasets it read (with digests) and its artifacts. A running run is polled, so its charts
 * grow without a reload.
 */
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, errorText, metricNumber, type WireExperiment, type WireModelVersion, type WireRun } from '../api';
import { ArtifactBrowser } from '../components/artifact-browser';
import { Lazy } from '../components/lazy';
import { DatasetTable, Section } from '../components/section';
import { MetricChart } from '../components/metric-chart';
import { formatDuration, formatNumber, formatTime } from '../format';
import { linkClick, updateQuery } from '../router';

const POLL_MS = 2000;
const CHART_PAGE = 24;

function KeyValueTable({
  rows,
  empty,
  testid,
}: {
  rows: readonly { key: string; value: ReactNode }[];
  empty: string;
  testid: string;
}): ReactNode {
  const [q, setQ] = useState('');
  const shown = q === '' ? rows : rows.filter((r) => r.key.toLowerCase().includes(q.toLowerCase()));
  if (rows.length === 0) return <div className="empty small">{empty}</div>;
  return (
    <div className="kv">
      {rows.length > 12 && (
        <input
          className="small-filter"
          placeholder={`Find among ${rows.length}`}
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
      )}
      <table className="table kv-table" data-testid={testid}>
        <tbody>
          {shown.slice(0, 500).map((r) => (
            <tr key={r.key}>
              <th>{r.key}</th>
              <td>{r.value}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {shown.length > 500 && <div className="muted small">First 500 of {shown.length}: narrow the search.</div>}
    </div>
  );
}

export function RunPage({ runId, query }: { runId: string; query: URLSearchParams }): ReactNode {
  const [run, setRun] = useState<WireRun>();
  const [experiment, setExperiment] = useState<WireExperiment>();
  const [error, setError] = useState<string>();
  const [chartFilter, setChartFilter] = useState('');
  const [chartLimit, setChartLimit] = useState(CHART_PAGE);
  const artifact = query.get('artifact') ?? '';

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = (): void => {
      api.run(runId).then(
        (r) => {
          if (!live) return;
          setRun(r);
          setError(undefined);
          // Live: keep polling while the run is going.
          if (r.info.status === 'RUNNING') timer = setTimeout(load, POLL_MS);
        },
        (e: unknown) => live && setError(errorText(e)),
      );
    };
    load();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [runId]);

  // Lineage forward: the model versions registered from this run.
  const [registered, setRegistered] = useState<WireModelVersion[]>([]);
  useEffect(() => {
    api.versionsOfRun(runId).then(
      (page) => setRegistered(page.items),
      () => undefined, // An older server without the registry: the run page works without it.
    );
  }, [runId]);

  const experimentId = run?.info.experimentId;
  useEffect(() => {
    if (experimentId !== undefined) api.experiment(experimentId).then(setExperiment, () => undefined);
  }, [experimentId]);

  const metrics = useMemo(
    () => [...(run?.data.metrics ?? [])].sort((a, b) => a.key.localeCompare(b.key, undefined, { numeric: true })),
    [run],
  );
  if (error !== undefined)
    return (
      <div className="page">
        <div className="banner error" role="alert">
          {error}
        </div>
      </div>
    );
  if (run === undefined) return <div className="page muted">Loading run…</div>;

  const { info, data, inputs } = run;
  const tag = (k: string): string | undefined => data.tags.find((t) => t.key === k)?.value;
  const parent = tag('mlflow.parentRunId');
  const expHref = `/experiments/${encodeURIComponent(info.experimentId)}`;
  const shownMetrics =
    chartFilter === '' ? metrics : metrics.filter((m) => m.key.toLowerCase().includes(chartFilter.toLowerCase()));
  const series = [{ runId: info.runId, label: info.runName }];

  return (
    <div className="page run-page">
      <div className="crumbs">
        <a href="/" onClick={linkClick('/')}>
          Experiments
        </a>
        {' / '}
        <a href={expHref} onClick={linkClick(expHref)}>
          {experiment?.name ?? info.experimentId}
        </a>
        {' / '}
        <span>{info.runName}</span>
      </div>
      <div className="page-head">
        <h1>{info.runName}</h1>
        <span className={`status-pill status-${info.status.toLowerCase()}`} data-testid="run-status">
          {info.status === 'RUNNING' ? '● live' : info.status.toLowerCase()}
        </span>
      </div>
      <dl className="facts">
        <div>
          <dt>Run ID</dt>
          <dd className="mono">{info.runId}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{formatTime(info.startTime)}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>
            {info.endTime === null
              ? `${formatDuration(Date.now() - info.startTime)} so far`
              : formatDuration(info.endTime - info.startTime)}
          </dd>
        </div>
        <div>
          <dt>User</dt>
          <dd>{info.userId || '–'}</dd>
        </div>
        {parent !== undefined && (
          <div>
            <dt>Parent run</dt>
            <dd>
              <a
                className="mono"
                href={`/runs/${encodeURIComponent(parent)}`}
                onClick={linkClick(`/runs/${encodeURIComponent(parent)}`)}
              >
                {parent.slice(0, 12)}
              </a>
            </dd>
          </div>
        )}
        {registered.length > 0 && (
          <div>
            <dt>Registered as</dt>
            <dd data-testid="registered-as">
              {registered.map((v) => {
                const href = `/models/${encodeURIComponent(v.name)}?version=${v.version}`;
                return (
                  <a key={`${v.name}:${v.version}`} className="chip" href={href} onClick={linkClick(href)}>
                    {v.name} v{v.version}
                    {v.aliases.map((a) => ` @${a}`).join('')}
                  </a>
                );
              })}
            </dd>
          </div>
        )}
        <div>
          <dt>Artifacts</dt>
          <dd className="mono small">{info.artifactUri}</dd>
        </div>
      </dl>

      <section>
        <div className="section-head">
          <h2>Metrics</h2>
          <span className="muted">{metrics.length}</span>
          {metrics.length > 6 && (
            <input
              className="small-filter"
              placeholder="Find a metric"
              value={chartFilter}
              onChange={(e) => setChartFilter(e.target.value)}
            />
          )}
        </div>
        {metrics.length === 0 ? (
          <div className="empty small">No metrics logged.</div>
        ) : (
          <div className="chart-grid">
            {shownMetrics.slice(0, chartLimit).map((m) => (
              <Lazy key={m.key} height={260}>
                <MetricChart metricKey={m.key} series={series} version={`${m.step}:${m.timestamp}`} />
                <div className="muted small latest">
                  latest {formatNumber(metricNumber(m.value))} at step {m.step}
                </div>
              </Lazy>
            ))}
          </div>
        )}
        {shownMetrics.length > chartLimit && (
          <button className="more" onClick={() => setChartLimit((l) => l + CHART_PAGE)}>
            Show {Math.min(CHART_PAGE, shownMetrics.length - chartLimit)} more charts (
            {shownMetrics.length - chartLimit} left)
          </button>
        )}
      </section>

      <div className="two-col">
        <Section title="Parameters" count={data.params.length}>
          <KeyValueTable
            testid="params"
            rows={data.params.map((p) => ({ key: p.key, value: p.value }))}
            empty="No parameters."
          />
        </Section>
        <Section title="Tags" count={data.tags.length}>
          <KeyValueTable testid="tags" rows={data.tags.map((t) => ({ key: t.key, value: t.value }))} empty="No tags." />
        </Section>
      </div>

      <Section title="Datasets" count={inputs.datasetInputs.length} empty="No dataset inputs recorded.">
        <DatasetTable
          testid="datasets"
          rows={inputs.datasetInputs.map((d) => ({
            ...d.dataset,
            context: d.tags.find((t) => t.key === 'mlflow.data.context')?.value ?? '',
          }))}
        />
      </Section>

      <section>
        <div className="section-head">
          <h2>Artifacts</h2>
          {artifact !== '' && (
            <button className="link" onClick={() => updateQuery({ artifact: null })}>
              close preview
            </button>
          )}
        </div>
        <ArtifactBrowser runId={info.runId} selected={artifact} />
      </section>
    </div>
  );
}
