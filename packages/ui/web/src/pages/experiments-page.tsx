/** All experiments, most recently updated first, filtered on the server by the search grammar. */
import type { ReactNode } from 'react';
import { api, type WireExperiment } from '../api';
import { ServerList } from '../components/server-list';
import { formatTime } from '../format';

const load = (params: { filter: string; pageToken?: string }) => api.experiments(params);

export function ExperimentsPage({ query }: { query: URLSearchParams }): ReactNode {
  return (
    <ServerList<WireExperiment>
      title="Experiments"
      noun={['experiment', 'experiments']}
      name="experiments"
      filter={query.get('filter') ?? ''}
      placeholder="name LIKE 'fraud%' OR tags.team = 'risk'   ·   press / to focus"
      load={load}
      keyOf={(x) => x.experimentId}
      hrefOf={(x) => `/experiments/${encodeURIComponent(x.experimentId)}`}
      nameOf={(x) => x.name}
      head={
        <>
          <th>Name</th>
          <th>ID</th>
          <th>Created</th>
          <th>Last update</th>
          <th>Tags</th>
        </>
      }
      cells={(x) => (
        <>
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
        </>
      )}
      empty={['No experiments yet: log a run (npm start runs the quickstart).', 'No experiments match this filter.']}
    />
  );
}
