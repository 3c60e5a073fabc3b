/**
 * A list page whose rows the server filters and pages (experiments, registered models): the
 * filter box with the parser's error, a table driven by the keyboard (j/k or arrows, Enter
 * opens), an empty state and "Load more".
 */
import { useEffect, useState, type ReactNode } from 'react';
import { ApiError, errorText } from '../api';
import { FilterBar } from './filter-bar';
import { linkClick, navigate, updateQuery } from '../router';

interface Page<T> {
  items: T[];
  nextPageToken?: string | undefined;
}

interface Props<T> {
  title: string;
  /** The row noun, singular and plural ("model", "models"). */
  noun: readonly [string, string];
  filter: string;
  placeholder: string;
  load: (params: { filter: string; pageToken?: string }) => Promise<Page<T>>;
  /** The table's class and test id. */
  name: string;
  keyOf: (item: T) => string;
  hrefOf: (item: T) => string;
  /** The header cells. */
  head: ReactNode;
  /** The cells after the first one, which is the item's name linking to hrefOf. */
  cells: (item: T) => ReactNode;
  nameOf: (item: T) => string;
  /** What an empty list says with no filter, and with one. */
  empty: readonly [string, string];
}

export function ServerList<T>(props: Props<T>): ReactNode {
  const { filter, load } = props;
  const [items, setItems] = useState<T[]>();
  const [next, setNext] = useState<string>();
  const [error, setError] = useState<{ message: string; position?: number }>();
  const [loadError, setLoadError] = useState<string>();
  const [focus, setFocus] = useState(0);

  useEffect(() => {
    let live = true;
    load({ filter }).then(
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
  }, [filter, load]);

  const more = (): void => {
    if (next === undefined) return;
    load({ filter, pageToken: next }).then(
      (page) => {
        setItems((i) => [...(i ?? []), ...page.items]);
        setNext(page.nextPageToken);
      },
      (e: unknown) => setLoadError(errorText(e)),
    );
  };

  const list = items ?? [];
  const [one, many] = props.noun;
  return (
    <div className="page">
      <div className="page-head">
        <h1>{props.title}</h1>
        <span className="muted" data-testid={`${one}-count`}>
          {items === undefined
            ? 'loading…'
            : `${list.length}${next === undefined ? '' : '+'} ${list.length === 1 && next === undefined ? one : many}`}
        </span>
      </div>
      <FilterBar
        value={filter}
        placeholder={props.placeholder}
        onApply={(f) => updateQuery({ filter: f === '' ? null : f }, true)}
        error={error}
        loadError={loadError}
      />
      <table
        className={`table ${props.name}`}
        data-testid={props.name}
        tabIndex={0}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown' || e.key === 'j') setFocus((f) => Math.min(list.length - 1, f + 1));
          else if (e.key === 'ArrowUp' || e.key === 'k') setFocus((f) => Math.max(0, f - 1));
          else if (e.key === 'Enter' && list[focus] !== undefined) navigate(props.hrefOf(list[focus]));
          else return;
          e.preventDefault();
        }}
      >
        <thead>
          <tr>{props.head}</tr>
        </thead>
        <tbody>
          {list.map((item, i) => {
            const href = props.hrefOf(item);
            return (
              <tr key={props.keyOf(item)} className={i === focus ? 'focused' : ''} onMouseDown={() => setFocus(i)}>
                <td>
                  <a href={href} onClick={linkClick(href)}>
                    {props.nameOf(item)}
                  </a>
                </td>
                {props.cells(item)}
              </tr>
            );
          })}
        </tbody>
      </table>
      {items !== undefined && list.length === 0 && error === undefined && (
        <div className="empty">{filter === '' ? props.empty[0] : props.empty[1]}</div>
      )}
      {next !== undefined && (
        <button className="more" onClick={more}>
          Load more
        </button>
      )}
    </div>
  );
}
