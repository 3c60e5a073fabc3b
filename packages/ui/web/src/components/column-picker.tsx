/**
 * Chooses the params, metrics and tags shown as columns. Lists can hold thousands of keys, so
 * the list is filtered by a search box and shows at most a few hundred matches at a time.
 */
import { useMemo, useState, type ReactNode } from 'react';
import type { ColumnKind } from '../run-columns';

type KeyKind = Exclude<ColumnKind, 'attribute'>;
const PREFIX: Record<KeyKind, string> = { param: 'params', metric: 'metrics', tag: 'tags' };
const SHOWN = 300;

interface Props {
  keys: Readonly<Record<KeyKind, readonly string[]>>;
  chosen: ReadonlySet<string>;
  onChange: (ids: string[]) => void;
  onClose: () => void;
}

export function ColumnPicker({ keys, chosen, onChange, onClose }: Props): ReactNode {
  const [query, setQuery] = useState('');
  const all = useMemo(
    () =>
      (['metric', 'param', 'tag'] as const).flatMap((kind) =>
        keys[kind].map((k) => ({ kind, key: k, id: `${PREFIX[kind]}.${k}` })),
      ),
    [keys],
  );
  const q = query.toLowerCase();
  const matches = q === '' ? all : all.filter((c) => c.id.toLowerCase().includes(q));
  const toggle = (id: string): void => {
    const next = new Set(chosen);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    onChange(all.map((c) => c.id).filter((c) => next.has(c)));
  };
  const setMany = (ids: readonly string[], on: boolean): void => {
    const next = new Set(chosen);
    for (const id of ids)
      if (on) next.add(id);
      else next.delete(id);
    onChange(all.map((c) => c.id).filter((c) => next.has(c)));
  };
  return (
    <div
      className="popover column-picker"
      role="dialog"
      aria-label="columns"
      onKeyDown={(e) => e.key === 'Escape' && onClose()}
    >
      <div className="popover-head">
        <input
          autoFocus
          placeholder="Find a param, metric or tag"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          aria-label="find column"
        />
        <button onClick={onClose} aria-label="close">
          ✕
        </button>
      </div>
      <div className="picker-actions">
        <span>
          {chosen.size} of {all.length} shown
        </span>
        <button
          onClick={() =>
            setMany(
              matches.map((m) => m.id),
              true,
            )
          }
        >
          Show {q === '' ? 'all' : 'matches'}
        </button>
        <button
          onClick={() =>
            setMany(
              matches.map((m) => m.id),
              false,
            )
          }
        >
          Hide {q === '' ? 'all' : 'matches'}
        </button>
      </div>
      <ul className="picker-list">
        {matches.slice(0, SHOWN).map((c) => (
          <li key={c.id}>
            <label>
              <input type="checkbox" checked={chosen.has(c.id)} onChange={() => toggle(c.id)} />
              <span className={`kind ${c.kind}`}>{c.kind === 'metric' ? 'm' : c.kind === 'param' ? 'p' : 't'}</span>
              {c.key}
            </label>
          </li>
        ))}
        {matches.length > SHOWN && <li className="muted">…and {matches.length - SHOWN} more: narrow the search</li>}
      </ul>
    </div>
  );
}
