/** All experiments, most recently updated first, filtered on the server by the search grammar. */
import { useEffect, useState, type ReactNode } from 'react';
import { api, ApiError, errorText, type WireExperiment } from '../api';
import { FilterBar } from '../components/filter-bar';
import { formatTime } from '../format';
import { linkClick, navigate, updateQuery } from '../router';

export function ExperimentsPage({ query }: { query: URLSearchParams }): ReactNode {
  const filter = query.get('filter') ?? '';
  const [items, setItems] = useState<WireExperiment[]>();
  const [next, setNext] = useState<string>();
  const [error, setError] = useState<{ message: string; position?: number }>();
  const [loadError, setLoadError] = useState<string>();
  const [focus, setFocus] = useState(0);

  useEffect(() => {
    let live = true;
    api.experiments({ filter }).then(
      (page) => {
        if (!live) return;
        setItems(page.items);
        setNext(page.nextPageToken);
        setError(undefined);
      },
      (e: unknown) => {
        if (!live) return;
        if (e instanceof ApiError && e.code === 'INVALID_ARGUMENT') {
          const position = e.details['position'];
          setError({ message: e.message, ...(typeof position === 'number' ? { position } : {}) });
          setItems([]);
        } else setLoadError(errorText(e));
      },
    );
    return () => {
      live = false;
    };
  }, [filter]);

  const more = (): void => {
    if (next === undefined) return;
    api.experiments({ filter, pageToken: next }).then(
      (page) => {
        setItems((i) => [...(i ?? []), ...page.items]);
        setNext(page.nextPageToken);
      },
      (e: unknown) => setLoadError(errorText(e)),
    );
  };

  const list = items ?? [];
  return (
    <div className="page">
      <div className="page-head">
        <h1>Experiments</h1>
        <span className="muted">
          {items === undefined ? 'loading…' : `${list.length}${next === undefined ? '' : '+'} experiments`}
        </span>
      </div>
      <FilterBar
        value={filter}
        placeholder="name LIKE 'fraud%' OR tags.team = 'risk'   ·   press / to focus"
        onApply={(f) => updateQuery({ filter: f === '' ? null : f }, true)}
        error={error}
      />
      {loadError !== undefined && (
        <div className="banner error" role="alert">
          {loadError}
        </div>
      )}
      <table
        className="table experiments"
        tabIndex={0}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown' || e.key === 'j') setFocus((f) => Math.min(list.length - 1, f + 1));
          else if (e.key === 'ArrowUp' || e.key === 'k') setFocus((f) => Math.max(0, f - 1));
          else if (e.key === 'Enter' && list[focus] !== undefined)
            navigate(`/experiments/${encodeURIComponent(list[focus].experimentId)}`);
          else return;
          e.preventDefault();
        }}
      >
        <thead>
          <tr>
            <th>Name</th>
            <th>ID</th>
            <th>Created</th>
            <th>Last update</th>
            <th>Tags</th>
          </tr>
        </thead>
        <tbody>
          {list.map((x, i) => {
            const href = `/experiments/${encodeURIComponent(x.experimentId)}`;
            return (
              <tr key={x.experimentId} className={i === focus ? 'focused' : ''} onMouseDown={() => setFocus(i)}>
                <td>
                  <a href={href} onClick={linkClick(href)}>
                    {x.name}
                  </a>
                </td>
                <td className="mono muted">{x.experimentId}</td>
                <td>{formatTime(x.creationTime)}</td>
                <td>{formatTime(x.lastUpdateTime)}</td>
                <td>
                  {x.tags
                    .filter((t) => !t.key.startsWith('mlflow.'))
                    .map((t) => (
                      <span key={t.key} className="chip">
                        {t.key}: {t.value}
                      </span>
                    ))}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {items !== undefined && list.length === 0 && error === undefined && (
        <div className="empty">
          No experiments{filter === '' ? ' yet: log a run (npm start runs the quickstart)' : ' match this filter'}.
        </div>
      )}
      {next !== undefined && (
        <button className="more" onClick={more}>
          Load more
        </button>
      )}
    </div>
  );
}
