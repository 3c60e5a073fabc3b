/**
 * Prometheus gauges of the latest monitoring result of every monitored model version: dataset
 * drift share, per-feature drift scores, quality and performance (text exposition format 0.0.4).
 */
import type { MonitoringStore, MonitorResult } from '@trestle/core';
import type { DatasetDrift, Performance, WindowQuality } from '@trestle/monitoring';

const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

class Exposition {
  readonly #families = new Map<string, { help: string; lines: string[] }>();
  gauge(name: string, help: string, labels: Record<string, string>, value: number | null | undefined): void {
    if (value === null || value === undefined || !Number.isFinite(value)) return;
    let f = this.#families.get(name);
    if (f === undefined) this.#families.set(name, (f = { help, lines: [] }));
    const l = Object.entries(labels)
      .map(([k, v]) => `${k}="${esc(v)}"`)
      .join(',');
    f.lines.push(`${name}{${l}} ${value}`);
  }
  text(): string {
    let out = '';
    for (const [name, f] of this.#families)
      out += `# HELP ${name} ${f.help}\n# TYPE ${name} gauge\n${f.lines.join('\n')}\n`;
    return out;
  }
}

/** The exposition text for the latest result of each monitored model version. */
export async function monitoringMetrics(store: MonitoringStore): Promise<string> {
  const e = new Exposition();
  for (const m of await store.listMonitoredModels()) {
    const latest: MonitorResult | undefined = (
      await store.listResults({ name: m.name, version: m.version, limit: 1 })
    )[0];
    if (latest === undefined) continue;
    const base = { model: m.name, version: m.version, alias: latest.alias ?? '' };
    e.gauge('trestle_monitor_window_end_seconds', 'End of the latest computed window', base, latest.end / 1000);
    e.gauge('trestle_monitor_window_rows', 'Predictions in the latest window', base, latest.rows);
    e.gauge('trestle_monitor_drift_share', 'Share of drifted features in the latest window', base, latest.driftShare);
    e.gauge(
      'trestle_monitor_dataset_drift',
      '1 when the dataset drifted in the latest window',
      base,
      latest.datasetDrift ? 1 : 0,
    );
    const drift = latest.drift as DatasetDrift | null;
    for (const f of [...(drift?.features ?? []), ...(drift?.prediction ?? [])]) {
      const labels = { ...base, feature: f.name, method: f.method };
      e.gauge(
        'trestle_monitor_feature_drift_score',
        'Drift score of a feature (p-value or distance, see method)',
        labels,
        f.score,
      );
      e.gauge('trestle_monitor_feature_drifted', '1 when the feature drifted', labels, f.drifted ? 1 : 0);
    }
    const quality = latest.quality as WindowQuality | null;
    for (const c of quality?.checks ?? []) {
      e.gauge(
        'trestle_monitor_quality_check_passed',
        '1 when the data-quality check passed',
        { ...base, check: c.name },
        c.passed ? 1 : 0,
      );
    }
    const perf = latest.performance as Performance | null;
    if (perf !== null) {
      e.gauge('trestle_monitor_labelled', 'Labelled predictions in the latest window', base, latest.labelled);
      const metrics =
        perf.task === 'regression'
          ? { rmse: perf.rmse, mae: perf.mae }
          : {
              accuracy: perf.accuracy,
              f1: perf.f1,
              ...(perf.task === 'binary-classification' && perf.auc !== undefined ? { auc: perf.auc } : {}),
            };
      for (const [metric, v] of Object.entries(metrics)) {
        e.gauge('trestle_monitor_performance', 'Performance of the latest window', { ...base, metric }, v.value);
        e.gauge(
          'trestle_monitor_performance_lower',
          'Lower bound of its confidence interval',
          { ...base, metric },
          v.lower,
        );
        e.gauge(
          'trestle_monitor_performance_upper',
          'Upper bound of its confidence interval',
          { ...base, metric },
          v.upper,
        );
      }
    }
  }
  return e.text();
}
