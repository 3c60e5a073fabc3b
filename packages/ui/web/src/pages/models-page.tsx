/** The registered models, most recently changed first, filtered on the server (`name LIKE 'fraud%'`). */
import type { ReactNode } from 'react';
import { api, type WireRegisteredModel } from '../api';
import { ServerList } from '../components/server-list';
import { formatTime } from '../format';

const load = (params: { filter: string; pageToken?: string }) => api.registeredModels(params);

export function ModelsPage({ query }: { query: URLSearchParams }): ReactNode {
  return (
    <ServerList<WireRegisteredModel>
      title="Models"
      noun={['model', 'models']}
      name="models"
      filter={query.get('filter') ?? ''}
      placeholder="name LIKE 'fraud%' OR tags.team = 'risk'   ·   press / to focus"
      load={load}
      keyOf={(m) => m.name}
      hrefOf={(m) => `/models/${encodeURIComponent(m.name)}`}
      nameOf={(m) => m.name}
      head={
        <>
          <th>Name</th>
          <th className="num">Latest version</th>
          <th>Aliases</th>
          <th>Last change</th>
          <th>Tags</th>
          <th>Description</th>
        </>
      }
      cells={(m) => (
        <>
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
        </>
      )}
      empty={[
        "No registered models yet: register one with 'trestle train --register NAME' or the SDK.",
        'No models match this filter.',
      ]}
    />
  );
}
