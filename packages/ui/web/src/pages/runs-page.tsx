/**
 * The runs of one experiment: server-side search (filter, order, pages loaded as the table is
 * scrolled), a column picker and a selection to compare. The URL holds the whole view:
 * `?filter=…&order=metrics.auc+DESC&col=metrics.auc&col=params.lr&sel=<run>&sel=<run>`.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { api, ApiError, errorText, type WireExperiment } from '../api';
import { ColumnPicker } from '../components/column-picker';
import { FilterBar } from '../components/filter-bar';
import { RunGrid, type SortState } from '../components/run-grid';
import { navigate, updateQuery } from '../router';
import { ATTRIBUTE_COLUMNS, parseColumnId, toRow, type Column, type RunRow } from '../run-columns';
import { mark } from '../marks';

// The first page fills a screen (about 25 rows) and no more: with 1,000 columns a run is ~60 kB of JSON.
const FIRST_PAGE = 30;
const NEXT_PAGE = 100;

type Keys = { param: string[]; metric: string[]; tag: string[] };

function parseOrder(order: string | null): SortState | undefined {
  if (order === null || order.trim() === '') return undefined;
  const m = /^(.*?)\s+(ASC|DESC)$/i.exec(order.trim());
  return m === null
    ? { field: order.trim(), desc: false }
    : { field: m[1] ?? '', desc: (m[2] ?? '').toUpperCase() === 'DESC' };
}

const hiddenTag = (k: string): boolean => k.startsWith('mlflow.') || k.startsWith('trestle.');

/** Adds keys to the picker's lists (kept sorted); the same object back when nothing is new. */
function mergeKeys(
  keys: Keys,
  more: { param: Iterable<string>; metric: Iterable<string>; tag: Iterable<string> },
): Keys {
  const add = (list: string[], extra: Iterable<string>, skip?: (k: string) => boolean): string[] => {
    const set = new Set(list);
    const before = set.size;
    for (const k of extra) if (skip === undefined || !skip(k)) set.add(k);
    return set.size === before ? list : [...set].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  };
  const next = {
    param: add(keys.param, more.param),
    metric: add(keys.metric, more.metric),
    tag: add(keys.tag, more.tag, hiddenTag),
  };
  return next.param === keys.param && next.metric === keys.metric && next.tag === keys.tag ? keys : next;
}

const keysOfRows = (rows: readonly RunRow[]) => ({
  param: rows.flatMap((r) => [...r.params.keys()]),
  metric: rows.flatMap((r) => [...r.metrics.keys()]),
  tag: rows.flatMap((r) => [...r.tags.keys()]),
});

export function RunsPage({ experimentId, query }: { experimentId: string; query: URLSearchParams }): ReactNode {
  const filter = query.get('filter') ?? '';
  const order = query.get('order');
  const sort = parseOrder(order);
  const colParam = query.getAll('col');
  const selected = useMemo(() => new Set(query.getAll('sel')), [query]);

  const [experiment, setExperiment] = useState<WireExperiment>();
  const [rows, setRows] = useState<RunRow[]>([]);
  const [keys, setKeys] = useState<Keys>({ param: [], metric: [], tag: [] });
  const [next, setNext] = useState<string>();
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<{ message: string; position?: number }>();
  const [loadError, setLoadError] = useState<string>();
  const [picker, setPicker] = useState(false);
  const generation = useRef(0);
  const marked = useRef(false);

  useEffect(() => {
    api.experiment(experimentId).then(setExperiment, (e: unknown) => setLoadError(errorText(e)));
  }, [experimentId]);

  // Every key of the experiment for the column picker, read by the server from its indexes
  // (the loaded rows only know the keys of the runs fetched so far). Not awaited by the rows.
  useEffect(() => {
    const abort = new AbortController();
    api.runKeys(experimentId, abort.signal).then(
      (all) => setKeys((k) => mergeKeys(k, { param: all.params, metric: all.metrics, tag: all.tags })),
      () => undefined, // The rows' own keys still fill the picker; the page shows load errors already.
    );
    return () => abort.abort();
  }, [experimentId]);

  const body = useCallback(
    (pageToken?: string) => ({
      experimentIds: [experimentId],
      ...(filter === '' ? {} : { filter }),
      ...(sort === undefined ? {} : { orderBy: [`${sort.field} ${sort.desc ? 'DESC' : 'ASC'}`] }),
      maxResults: pageToken === undefined ? FIRST_PAGE : NEXT_PAGE,
      ...(pageToken === undefined ? {} : { pageToken }),
    }),
    [experimentId, filter, order],
  );

  useEffect(() => {
    const gen = ++generation.current;
    const abort = new AbortController();
    setLoading(true);
    api.searchRuns(body(), abort.signal).then(
      (page) => {
        if (gen !== generation.current) return;
        const fresh = page.items.map(toRow);
        setRows(fresh);
        setKeys((k) => mergeKeys(k, keysOfRows(fresh)));
        setNext(page.nextPageToken);
        setError(undefined);
        setLoadError(undefined);
        setLoading(false);
      },
      (e: unknown) => {
        if (gen !== generation.current || abort.signal.aborted) return;
        setLoading(false);
        if (e instanceof ApiError && e.code === 'INVALID_ARGUMENT') {
          const position = e.details['position'];
          setError({ message: e.message, ...(typeof position === 'number' ? { position } : {}) });
          setRows([]);
          setNext(undefined);
        } else setLoadError(errorText(e));
      },
    );
    return () => abort.abort();
  }, [body]);

  useEffect(() => {
    if (rows.length > 0 && !marked.current) {
      marked.current = true;
      mark('first-rows');
    }
  }, [rows]);

  const onReachRow = useCallback(
    (last: number) => {
      if (loading || next === undefined || last < rows.length - 40) return;
      const gen = generation.current;
      setLoading(true);
      api.searchRuns(body(next)).then(
        (page) => {
          if (gen !== generation.current) return;
          const fresh = page.items.map(toRow);
          setRows((r) => [...r, ...fresh]);
          setKeys((k) => mergeKeys(k, keysOfRows(fresh)));
          setNext(page.nextPageToken);
          setLoading(false);
        },
        (e: unknown) => {
          setLoading(false);
          setLoadError(errorText(e));
        },
      );
    },
    [loading, next, rows.length, body],
  );

  const chosenIds = useMemo(
    () =>
      colParam.length > 0
        ? colParam.filter((c) => c !== '')
        : [...keys.metric.map((k) => `metrics.${k}`), ...keys.param.map((k) => `params.${k}`)],
    [query.has('col') ? `cols:${colParam.join('\u0000')}` : 'default', keys],
  );
  const columns: Column[] = useMemo(
    () => [...ATTRIBUTE_COLUMNS, ...chosenIds.map(parseColumnId).filter((c): c is Column => c !== undefined)],
    [chosenIds],
  );

  const setSelected = (ids: Iterable<string>): void => updateQuery({ sel: [...ids] });
  const toggle = (id: string): void => {
    const s = new Set(selected);
    if (s.has(id)) s.delete(id);
    else s.add(id);
    setSelected(s);
  };
  const toggleAll = (): void => {
    const all = rows.every((r) => selected.has(r.run.info.runId));
    setSelected(all ? [] : rows.map((r) => r.run.info.runId));
  };
  const onSort = (c: Column): void => {
    const field = c.sortField;
    if (field === undefined) return;
    // Numbers are most useful largest first; a third click returns to the default order.
    const nextSort = sort?.field !== field ? `${field} DESC` : sort.desc ? `${field} ASC` : null;
    updateQuery({ order: nextSort });
  };

  return (
    <div className="page runs-page">
      <div className="page-head">
        <h1>
          <span className="muted">Experiment</span> {experiment?.name ?? experimentId}
        </h1>
        <div className="head-actions">
          <span className="muted" data-testid="run-count">
            {rows.length} {rows.length === 1 ? 'run' : 'runs'}
            {next !== undefined ? '+ (scroll for more)' : ''}
            {loading ? ' · loading…' : ''}
          </span>
          {selected.size > 0 && (
            <button onClick={() => setSelected([])} title="clear the selection">
              Clear {selected.size} selected
            </button>
          )}
          <button
            className="primary"
            disabled={selected.size < 2}
            title={selected.size < 2 ? 'select two or more runs (Space) to compare' : 'compare the selected runs'}
            onClick={() =>
              navigate(`/compare?${[...selected].map((id) => `runs=${encodeURIComponent(id)}`).join('&')}`)
            }
          >
            Compare{selected.size >= 2 ? ` ${selected.size}` : ''}
          </button>
          <div className="popover-anchor">
            <button onClick={() => setPicker((p) => !p)} aria-expanded={picker}>
              Columns ({chosenIds.length})
            </button>
            {picker && (
              <ColumnPicker
                keys={keys}
                chosen={new Set(chosenIds)}
                onChange={(ids) => updateQuery({ col: ids.length === 0 ? [''] : ids })}
                onClose={() => setPicker(false)}
              />
            )}
          </div>
        </div>
      </div>
      <FilterBar
        value={filter}
        placeholder="metrics.auc > 0.8 AND (params.model = 'gbdt' OR tags.team = 'risk')   ·   press / to focus"
        onApply={(f) => updateQuery({ filter: f === '' ? null : f }, true)}
        error={error}
        loadError={loadError}
      />
      <RunGrid
        rows={rows}
        columns={columns}
        pinned={1}
        selected={selected}
        onToggle={toggle}
        onToggleAll={toggleAll}
        sort={sort}
        onSort={onSort}
        onReachRow={onReachRow}
        footer={
          rows.length === 0 && !loading && error === undefined ? (
            <div className="empty">
              {filter === '' ? 'No runs in this experiment yet.' : 'No runs match this filter.'}
            </div>
          ) : undefined
        }
      />
    </div>
  );
}
