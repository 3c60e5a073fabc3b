/**
 * One registered model: its aliases (set, move and roll back from here, recorded in the audit
 * trail with the reason typed in), its versions (status, stage, tags, the run that made them),
 * the lineage of the selected version (run → datasets with digests) and the audit history.
 * The URL holds the selected version: `/models/fraud?version=3`.
 */
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import {
  api,
  ApiError,
  errorText,
  type WireModelLineage,
  type WireModelVersion,
  type WireRegisteredModel,
  type WireRegistryEvent,
} from '../api';
import { formatTime } from '../format';
import { linkClick, navigate, updateQuery } from '../router';
import { DatasetTable, Section } from '../components/section';

const runHref = (runId: string): string => `/runs/${encodeURIComponent(runId)}`;

/** A recorded field change (`{ field, old, new }`, tags with `key`), in words. */
function change(d: Readonly<Record<string, unknown>>): string {
  const text = (x: unknown): string => (typeof x === 'string' || typeof x === 'number' ? String(x) : '');
  if (d['field'] === 'tag')
    return `tag ${text(d['key'])} ${d['deleted'] === true ? 'deleted' : `set to ${text(d['new'])}`}`;
  const field = text(d['field']) || 'details';
  return d['old'] === undefined && d['new'] === undefined
    ? `${field} changed`
    : `${field} ${text(d['old']) || '–'} → ${text(d['new']) || '–'}`;
}

/** What one audit entry did, in words. */
function describeEvent(e: WireRegistryEvent): string {
  const v = (n: number | undefined): string => (n === undefined ? '' : `v${n}`);
  switch (e.type) {
    case 'alias.set':
      return e.oldVersion === undefined
        ? `@${e.alias ?? ''} set to ${v(e.newVersion)}`
        : `@${e.alias ?? ''} moved ${v(e.oldVersion)} → ${v(e.newVersion)}`;
    case 'alias.deleted':
      return `@${e.alias ?? ''} deleted (was ${v(e.oldVersion)})`;
    case 'version.created':
      return `${v(e.version)} registered`;
    case 'version.updated':
      return `${v(e.version)} ${change(e.details ?? {})}`;
    case 'version.deleted':
      return `${v(e.version)} deleted`;
    case 'model.created':
      return 'model created';
    case 'model.renamed':
      return `model renamed${typeof e.details?.['oldName'] === 'string' ? ` from ${e.details['oldName']}` : ''}`;
    case 'model.updated':
      return `model ${change(e.details ?? {})}`;
    case 'model.deleted':
      return 'model deleted';
  }
}

function AliasRow({
  alias,
  version,
  versions,
  busy,
  onMove,
  onRollback,
}: {
  alias: string;
  version: number;
  versions: readonly WireModelVersion[];
  busy: boolean;
  onMove: (to: number) => void;
  onRollback: () => void;
}): ReactNode {
  const [to, setTo] = useState(version);
  useEffect(() => setTo(version), [version]);
  return (
    <tr data-alias={alias}>
      <th>@{alias}</th>
      <td className="num" data-testid="alias-version">
        v{version}
      </td>
      <td className="alias-actions">
        <select aria-label={`move @${alias} to`} value={to} onChange={(e) => setTo(Number(e.target.value))}>
          {versions.map((v) => (
            <option key={v.version} value={v.version} disabled={v.status !== 'READY'}>
              v{v.version}
              {v.status === 'READY' ? '' : ` (${v.status.toLowerCase()})`}
            </option>
          ))}
        </select>
        <button disabled={busy || to === version} onClick={() => onMove(to)}>
          Move
        </button>
        <button disabled={busy} onClick={onRollback} title="back to the version it pointed to before its last move">
          Roll back
        </button>
      </td>
    </tr>
  );
}

export function ModelPage({ name, query }: { name: string; query: URLSearchParams }): ReactNode {
  const [model, setModel] = useState<WireRegisteredModel>();
  const [versions, setVersions] = useState<WireModelVersion[]>([]);
  const [history, setHistory] = useState<WireRegistryEvent[]>([]);
  const [lineage, setLineage] = useState<WireModelLineage>();
  const [error, setError] = useState<string>();
  const [actionError, setActionError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [reason, setReason] = useState('');
  const [newAlias, setNewAlias] = useState('');
  const [newAliasVersion, setNewAliasVersion] = useState<number>();
  const selectedParam = query.get('version');

  const load = useCallback(async (): Promise<void> => {
    try {
      const [m, vs, h] = await Promise.all([
        api.registeredModel(name),
        api.modelVersions(name),
        api.modelHistory(name),
      ]);
      setModel(m);
      setVersions(vs.items);
      setHistory(h.items);
      setError(undefined);
    } catch (e) {
      setError(errorText(e));
    }
  }, [name]);

  useEffect(() => {
    void load();
  }, [load]);

  const selected =
    selectedParam !== null && /^\d+$/.test(selectedParam) ? Number(selectedParam) : (versions[0]?.version ?? undefined);

  useEffect(() => {
    if (selected === undefined) return;
    let live = true;
    api.versionLineage(name, selected).then(
      (l) => live && setLineage(l),
      (e: unknown) => live && setError(errorText(e)),
    );
    return () => {
      live = false;
    };
  }, [name, selected, history.length]);

  const act = async (what: string, change: () => Promise<WireModelVersion>): Promise<void> => {
    setBusy(true);
    setActionError(undefined);
    setNotice(undefined);
    try {
      const v = await change();
      setNotice(`${what}: now v${v.version}`);
      setReason('');
      await load();
    } catch (e) {
      // 403 when the token is a reader's: say which role the change needs.
      setActionError(
        e instanceof ApiError && e.status === 403
          ? `${e.message} (alias changes need a token with the editor role)`
          : (errorText(e) ?? 'sign in to change aliases'),
      );
    } finally {
      setBusy(false);
    }
  };

  if (error !== undefined && model === undefined)
    return (
      <div className="page">
        <div className="banner error" role="alert">
          {error}
        </div>
      </div>
    );
  if (model === undefined) return <div className="page muted">Loading model…</div>;

  const ready = versions.filter((v) => v.status === 'READY');
  const aliasTarget = newAliasVersion ?? ready[0]?.version;
  const run = lineage?.run;
  const sel = lineage?.version;

  return (
    <div className="page model-page">
      <div className="crumbs">
        <a href="/models" onClick={linkClick('/models')}>
          Models
        </a>
        {' / '}
        <span>{model.name}</span>
      </div>
      <div className="page-head">
        <h1>{model.name}</h1>
        <span className="muted">
          {model.latestVersion === 0 ? 'no versions' : `latest v${model.latestVersion}`} · {versions.length} versions
        </span>
      </div>
      <dl className="facts">
        <div>
          <dt>Created</dt>
          <dd>{formatTime(model.creationTime)}</dd>
        </div>
        <div>
          <dt>Last change</dt>
          <dd>{formatTime(model.lastUpdatedTime)}</dd>
        </div>
        {model.userId !== '' && (
          <div>
            <dt>By</dt>
            <dd>{model.userId}</dd>
          </div>
        )}
        {model.tags.length > 0 && (
          <div>
            <dt>Tags</dt>
            <dd>
              {model.tags.map((t) => (
                <span key={t.key} className="chip">
                  {t.key}: {t.value}
                </span>
              ))}
            </dd>
          </div>
        )}
        {model.description !== '' && (
          <div>
            <dt>Description</dt>
            <dd>{model.description}</dd>
          </div>
        )}
      </dl>
      {error !== undefined && (
        <div className="banner error" role="alert">
          {error}
        </div>
      )}

      <Section title="Aliases" count={model.aliases.length}>
        <div className="alias-reason">
          <input
            aria-label="reason"
            placeholder="Reason for the change (kept in the audit history)"
            value={reason}
            onChange={(e) => setReason(e.target.value)}
          />
        </div>
        {actionError !== undefined && (
          <div className="banner error" role="alert" data-testid="alias-error">
            {actionError}
          </div>
        )}
        {notice !== undefined && (
          <div className="banner ok" role="status">
            {notice}
          </div>
        )}
        <table className="table aliases" data-testid="aliases">
          <tbody>
            {model.aliases.map((a) => (
              <AliasRow
                key={a.alias}
                alias={a.alias}
                version={a.version}
                versions={versions}
                busy={busy}
                onMove={(to) => void act(`@${a.alias} moved`, () => api.setAlias(name, a.alias, to, reason))}
                onRollback={() => void act(`@${a.alias} rolled back`, () => api.rollbackAlias(name, a.alias, reason))}
              />
            ))}
            <tr className="new-alias">
              <th>
                <input
                  aria-label="new alias"
                  placeholder="new alias, e.g. challenger"
                  value={newAlias}
                  onChange={(e) => setNewAlias(e.target.value)}
                />
              </th>
              <td>
                <select
                  aria-label="new alias version"
                  value={aliasTarget}
                  onChange={(e) => setNewAliasVersion(Number(e.target.value))}
                >
                  {ready.map((v) => (
                    <option key={v.version} value={v.version}>
                      v{v.version}
                    </option>
                  ))}
                </select>
              </td>
              <td>
                <button
                  disabled={busy || newAlias.trim() === '' || aliasTarget === undefined}
                  onClick={() => {
                    const alias = newAlias.trim();
                    if (aliasTarget === undefined) return;
                    void act(`@${alias} set`, () => api.setAlias(name, alias, aliasTarget, reason)).then(() =>
                      setNewAlias(''),
                    );
                  }}
                >
                  Set alias
                </button>
              </td>
            </tr>
          </tbody>
        </table>
      </Section>

      <Section title="Versions" count={versions.length} empty="No versions registered yet.">
        <table
          className="table versions"
          data-testid="versions"
          tabIndex={0}
          onKeyDown={(e) => {
            // ↑/↓ (or k/j) choose the version whose lineage is shown; Enter opens its run.
            const at = versions.findIndex((v) => v.version === selected);
            const go = (i: number): void => {
              const v = versions[Math.max(0, Math.min(versions.length - 1, i))];
              if (v !== undefined) updateQuery({ version: String(v.version) });
            };
            if (e.key === 'ArrowDown' || e.key === 'j') go(at + 1);
            else if (e.key === 'ArrowUp' || e.key === 'k') go(at - 1);
            else if (e.key === 'Enter' && versions[at]?.runId !== undefined) navigate(runHref(versions[at].runId));
            else return;
            e.preventDefault();
          }}
        >
          <thead>
            <tr>
              <th>Version</th>
              <th>Status</th>
              <th>Stage</th>
              <th>Aliases</th>
              <th>Tags</th>
              <th>Run</th>
              <th>Registered</th>
              <th>Description</th>
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => (
              <tr
                key={v.version}
                data-version={v.version}
                className={v.version === selected ? 'focused' : ''}
                onClick={() => updateQuery({ version: String(v.version) })}
              >
                <td>
                  <button className="link" onClick={() => updateQuery({ version: String(v.version) })}>
                    v{v.version}
                  </button>
                </td>
                <td>
                  <span className={`status-pill status-${v.status === 'READY' ? 'finished' : 'killed'}`}>
                    {v.status.toLowerCase().replace(/_/g, ' ')}
                  </span>
                </td>
                <td>{v.stage === 'None' ? <span className="muted">–</span> : v.stage}</td>
                <td>
                  {v.aliases.map((a) => (
                    <span key={a} className="chip alias">
                      @{a}
                    </span>
                  ))}
                </td>
                <td>
                  {v.tags.map((t) => (
                    <span key={t.key} className="chip">
                      {t.key}: {t.value}
                    </span>
                  ))}
                </td>
                <td className="mono">
                  {v.runId === undefined ? (
                    <span className="muted">–</span>
                  ) : (
                    <a href={runHref(v.runId)} onClick={linkClick(runHref(v.runId))}>
                      {v.runId.slice(0, 8)}
                    </a>
                  )}
                </td>
                <td>{formatTime(v.creationTime)}</td>
                <td className="muted">{v.description}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>

      {sel !== undefined && (
        <section data-testid="lineage">
          <div className="section-head">
            <h2>Lineage of v{sel.version}</h2>
          </div>
          <dl className="facts">
            <div>
              <dt>Source</dt>
              <dd className="mono small">{sel.source}</dd>
            </div>
            <div>
              <dt>Run</dt>
              <dd>
                {run === undefined ? (
                  <span className="muted">not recorded</span>
                ) : (
                  <>
                    <a href={runHref(run.runId)} onClick={linkClick(runHref(run.runId))} data-testid="lineage-run">
                      {run.runName}
                    </a>{' '}
                    <span className="muted small">
                      {run.status.toLowerCase()} · in{' '}
                      <a
                        href={`/experiments/${encodeURIComponent(run.experimentId)}`}
                        onClick={linkClick(`/experiments/${encodeURIComponent(run.experimentId)}`)}
                      >
                        experiment {run.experimentId}
                      </a>
                    </span>
                  </>
                )}
              </dd>
            </div>
          </dl>
          {run !== undefined &&
            (run.datasets.length === 0 ? (
              <div className="empty small">The run recorded no dataset inputs.</div>
            ) : (
              <DatasetTable
                testid="lineage-datasets"
                nameHeader="Dataset"
                rows={run.datasets.map((d) => ({ ...d, context: d.context ?? '' }))}
              />
            ))}
        </section>
      )}

      <Section title="History" count={history.length} empty="No changes recorded.">
        <table className="table history" data-testid="history">
          <thead>
            <tr>
              <th>When</th>
              <th>Who</th>
              <th>Change</th>
              <th>Reason</th>
            </tr>
          </thead>
          <tbody>
            {history.map((e) => (
              <tr key={e.id} data-type={e.type}>
                <td>{formatTime(e.time)}</td>
                <td>{e.actor === '' ? <span className="muted">–</span> : e.actor}</td>
                <td>{describeEvent(e)}</td>
                <td className="muted">{e.reason ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
    </div>
  );
}
