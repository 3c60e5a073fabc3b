/** The registered models, most recently changed first, filtered on the server (`name LIKE 'fraud%'`). */
import { useEffect, useState, type ReactNode } from 'react';
import { api, ApiError, errorText, type WireRegisteredModel } from '../api';
import { FilterBar } from '../components/filter-bar';
import { formatTime } from '../format';
import { linkClick, navigate, updateQuery } from '../router';

const modelHref = (name: string, version?: number): string =>
  `/models/${encodeURIComponent(name)}${version === undefined ? '' : `?version=${version}`}`;

export function ModelsPage({ query }: { query: URLSearchParams }): ReactNode {
  const filter = query.get('filter') ?? '';
  const [items, setItems] = useState<WireRegisteredModel[]>();
  const [next, setNext] = useState<string>();
  const [error, setError] = useState<{ message: string; position?: number }>();
  const [loadError, setLoadError] = useState<string>();
  const [focus, setFocus] = useState(0);

  useEffect(() => {
    let live = true;
    api.registeredModels({ filter }).then(
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
    api.registeredModels({ filter, pageToken: next }).then(
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
        <h1>Models</h1>
        <span className="muted" data-testid="model-count">
          {items === undefined
            ? 'loading…'
            : `${list.length}${next === undefined ? '' : '+'} ${list.length === 1 && next === undefined ? 'model' : 'models'}`}
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
        className="table models"
        data-testid="models"
        tabIndex={0}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown' || e.key === 'j') setFocus((f) => Math.min(list.length - 1, f + 1));
          else if (e.key === 'ArrowUp' || e.key === 'k') setFocus((f) => Math.max(0, f - 1));
          else if (e.key === 'Enter' && list[focus] !== undefined) navigate(modelHref(list[focus].name));
          else return;
          e.preventDefault();
        }}
      >
        <thead>
          <tr>
            <th>Name</th>
            <th className="num">Latest version</th>
            <th>Aliases</th>
            <th>Last change</th>
            <th>Tags</th>
            <th>Description</th>
          </tr>
        </thead>
        <tbody>
          {list.map((m, i) => {
            const href = modelHref(m.name);
            return (
              <tr key={m.name} className={i === focus ? 'focused' : ''} onMouseDown={() => setFocus(i)}>
                <td>
                  <a href={href} onClick={linkClick(href)}>
                    {m.name}
                  </a>
                </td>
                <td className="num">{m.latestVersion === 0 ? '–' : `v${m.latestVersion}`}</td>
                <td>
                  {m.aliases.map((a) => (
                    <span key={a.alias} className="chip alias">
                      @{a.alias} → v{a.version}
                    </span>
                  ))}
                </td>
                <td>{formatTime(m.lastUpdatedTime)}</td>
                <td>
                  {m.tags.map((t) => (
                    <span key={t.key} className="chip">
                      {t.key}: {t.value}
                    </span>
                  ))}
                </td>
                <td className="muted">{m.description}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {items !== undefined && list.length === 0 && error === undefined && (
        <div className="empty">
          {filter === ''
            ? "No registered models yet: register one with 'trestle train --register NAME' or the SDK."
            : 'No models match this filter.'}
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
