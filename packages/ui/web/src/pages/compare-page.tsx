/**
 * Two or more runs side by side: params (rows that differ highlighted, or only those), latest
 * metrics, one metric's histories overlaid, and parallel coordinates over the params that
 * differ and that metric. `?runs=<id>&runs=<id>&metric=<key>` names the view.
 */
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, errorText, metricNumber, type WireRunComparison } from '../api';
import { MetricChart, PALETTE } from '../components/metric-chart';
import { ParallelCoords } from '../components/parallel-coords';
import { formatNumber } from '../format';
import { linkClick, updateQuery } from '../router';

export function ComparePage({ query }: { query: URLSearchParams }): ReactNode {
  const runIds = useMemo(
    () =>
      query
        .getAll('runs')
        .flatMap((r) => r.split(','))
        .filter((r) => r !== ''),
    [query],
  );
  const onlyDiff = query.get('diff') === '1';
  const [cmp, setCmp] = useState<WireRunComparison>();
  const [error, setError] = useState<string>();
  const idsKey = runIds.join(',');

  useEffect(() => {
    if (runIds.length < 2) return;
    let live = true;
    api.compare(runIds).then(
      (c) => live && setCmp(c),
      (e: unknown) => live && setError(errorText(e)),
    );
    return () => {
      live = false;
    };
    // idsKey stands for runIds: the effect runs again only when the set of runs changes.
  }, [idsKey]);

  if (runIds.length < 2)
    return (
      <div className="page">
        <h1>Compare runs</h1>
        <p className="muted">
          Select two or more runs in an experiment's table (Space or the checkboxes), then press Compare.
        </p>
      </div>
    );
  if (error !== undefined)
    return (
      <div className="page">
        <div className="banner error" role="alert">
          {error}
        </div>
      </div>
    );
  if (cmp === undefined) return <div className="page muted">Loading {runIds.length} runs…</div>;

  const metricKeys = cmp.metrics.map((m) => m.key);
  // Default to a metric with a history (a step past 0) over a single final value.
  const withHistory = metricKeys.find((k) =>
    cmp.runs.some((r) => r.data.metrics.some((m) => m.key === k && m.step > 0)),
  );
  const metric = query.get('metric') ?? withHistory ?? metricKeys[0];
  const params = onlyDiff ? cmp.params.filter((p) => p.differs) : cmp.params;
  const differing = cmp.params.filter((p) => p.differs);
  const chosen = cmp.metrics.find((m) => m.key === metric);
  const colorBy = cmp.runs.map((_, i) => {
    const v = chosen?.values[i];
    return v === null || v === undefined ? null : metricNumber(v);
  });
  const expId = cmp.runs[0]?.info.experimentId;
  const series = cmp.runs.map((r) => ({ runId: r.info.runId, label: r.info.runName }));

  return (
    <div className="page compare-page">
      <div className="crumbs">
        <a href="/" onClick={linkClick('/')}>
          Experiments
        </a>
        {expId !== undefined && (
          <>
            {' / '}
            <a
              href={`/experiments/${encodeURIComponent(expId)}`}
              onClick={linkClick(`/experiments/${encodeURIComponent(expId)}`)}
            >
              runs
            </a>
          </>
        )}
        {' / compare'}
      </div>
      <div className="page-head">
        <h1>Compare {cmp.runs.length} runs</h1>
        <span className="muted">
          {differing.length} of {cmp.params.length} params differ
        </span>
      </div>

      <section>
        <div className="section-head">
          <h2>Parameters</h2>
          <label className="toggle">
            <input type="checkbox" checked={onlyDiff} onChange={() => updateQuery({ diff: onlyDiff ? null : '1' })} />{' '}
            only differences
          </label>
        </div>
        <div className="compare-wrap">
          <table className="table compare" data-testid="compare-params">
            <thead>
              <tr>
                <th />
                {cmp.runs.map((r, i) => (
                  <th key={r.info.runId}>
                    <span className="swatch" style={{ background: PALETTE[i % PALETTE.length] }} />
                    <a
                      href={`/runs/${encodeURIComponent(r.info.runId)}`}
                      onClick={linkClick(`/runs/${encodeURIComponent(r.info.runId)}`)}
                    >
                      {r.info.runName}
                    </a>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {params.map((p) => (
                <tr key={p.key} className={p.differs ? 'differs' : ''} data-differs={p.differs}>
                  <th>{p.key}</th>
                  {p.values.map((v, i) => (
                    <td key={i} className={v === null ? 'muted' : ''}>
                      {v ?? '–'}
                    </td>
                  ))}
                </tr>
              ))}
              {params.length === 0 && (
                <tr>
                  <td colSpan={cmp.runs.length + 1} className="muted">
                    {onlyDiff ? 'All params are the same.' : 'No params.'}
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      </section>

      <section>
        <div className="section-head">
          <h2>Metrics (latest)</h2>
        </div>
        <div className="compare-wrap">
          <table className="table compare" data-testid="compare-metrics">
            <thead>
              <tr>
                <th />
                {cmp.runs.map((r) => (
                  <th key={r.info.runId} className="num">
                    {r.info.runName}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {cmp.metrics.map((m) => {
                const nums = m.values.map((v) => (v === null ? null : metricNumber(v)));
                const finite = nums.filter((n): n is number => n !== null && Number.isFinite(n));
                // Losses and errors are best low, scores best high.
                const lowIsBetter = /loss|error|rmse|mse|mae|latency|time/i.test(m.key);
                const best = finite.length > 1 ? (lowIsBetter ? Math.min(...finite) : Math.max(...finite)) : undefined;
                return (
                  <tr key={m.key} className={m.differs ? 'differs' : ''}>
                    <th>
                      <button className="link" onClick={() => updateQuery({ metric: m.key })} title="chart this metric">
                        {m.key}
                      </button>
                    </th>
                    {nums.map((n, i) => (
                      <td key={i} className={`num${n !== null && n === best ? ' best' : ''}`}>
                        {n === null ? '–' : formatNumber(n)}
                      </td>
                    ))}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </section>

      {metric !== undefined && (
        <section>
          <div className="section-head">
            <h2>History</h2>
            <select value={metric} onChange={(e) => updateQuery({ metric: e.target.value })} aria-label="metric">
              {metricKeys.map((k) => (
                <option key={k}>{k}</option>
              ))}
            </select>
          </div>
          <MetricChart metricKey={metric} series={series} height={300} />
        </section>
      )}

      {metric !== undefined && (
        <section>
          <div className="section-head">
            <h2>Parallel coordinates</h2>
            <span className="muted">params that differ → {metric}</span>
          </div>
          <ParallelCoords
            axes={[
              ...differing.slice(0, 12).map((p) => ({ name: p.key, values: p.values })),
              { name: metric, values: colorBy },
            ]}
            runLabels={cmp.runs.map((r) => r.info.runName)}
            colorBy={colorBy}
          />
        </section>
      )}
    </div>
  );
}
