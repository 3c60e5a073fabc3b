/**
 * A run's artifacts: a folder listing to walk through, and a preview of the chosen file
 * (text, JSON pretty-printed, images, CSV as a table). Files are fetched through the API with
 * the session's token, so previews work on a server with `--auth` too.
 */
import { useEffect, useState, type ReactNode } from 'react';
import { api, errorText } from '../api';
import { formatBytes } from '../format';
import { updateQuery } from '../router';

const PREVIEW_LIMIT = 5 * 1024 * 1024;
const CSV_ROWS = 500;
const IMAGE = /\.(png|jpe?g|gif|webp|svg|bmp)$/i;
const TEXT =
  /(\.(txt|log|md|ya?ml|toml|ini|cfg|py|ts|js|sh|json|jsonl|csv|tsv|html|xml|sql|r|txt)|MLmodel|requirements\.txt|Dockerfile|LICENSE)$/i;

type Entry = { path: string; isDir: boolean; size?: number };
type Preview =
  | { kind: 'loading' }
  | { kind: 'text'; text: string }
  | { kind: 'json'; text: string }
  | { kind: 'csv'; rows: string[][]; total: number }
  | { kind: 'image'; url: string }
  | { kind: 'binary'; size: number }
  | { kind: 'error'; message: string };

/** Splits CSV text into rows of fields (quotes and doubled quotes handled; no multi-line fields past the preview). */
function parseCsv(text: string, limit: number, sep = ','): { rows: string[][]; total: number } {
  const lines = text.split(/\r?\n/).filter((l) => l !== '');
  const rows: string[][] = [];
  for (const line of lines.slice(0, limit + 1)) {
    const fields: string[] = [];
    let cur = '';
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const ch = line[i];
      if (quoted) {
        if (ch === '"' && line[i + 1] === '"') {
          cur += '"';
          i++;
        } else if (ch === '"') quoted = false;
        else cur += ch;
      } else if (ch === '"') quoted = true;
      else if (ch === sep) {
        fields.push(cur);
        cur = '';
      } else cur += ch ?? '';
    }
    fields.push(cur);
    rows.push(fields);
  }
  return { rows, total: Math.max(0, lines.length - 1) };
}

async function preview(runId: string, entry: Entry): Promise<Preview> {
  const size = entry.size ?? 0;
  const isImage = IMAGE.test(entry.path);
  if (!isImage && !TEXT.test(entry.path) && size > 64 * 1024) return { kind: 'binary', size };
  if (size > PREVIEW_LIMIT) return { kind: 'binary', size };
  const blob = await api.artifact(runId, entry.path);
  if (isImage)
    return {
      kind: 'image',
      url: URL.createObjectURL(entry.path.endsWith('.svg') ? new Blob([blob], { type: 'image/svg+xml' }) : blob),
    };
  const text = await blob.text();
  // A NUL byte in the first KB: not text.
  if (text.slice(0, 1024).includes('\u0000')) return { kind: 'binary', size };
  if (/\.json$/i.test(entry.path)) {
    try {
      return { kind: 'json', text: JSON.stringify(JSON.parse(text), null, 2) };
    } catch {
      return { kind: 'text', text };
    }
  }
  if (/\.(csv|tsv)$/i.test(entry.path))
    return { kind: 'csv', ...parseCsv(text, CSV_ROWS, entry.path.endsWith('.tsv') ? '\t' : ',') };
  return { kind: 'text', text };
}

async function download(runId: string, path: string): Promise<void> {
  const url = URL.createObjectURL(await api.artifact(runId, path));
  const a = document.createElement('a');
  a.href = url;
  a.download = path.split('/').pop() ?? 'artifact';
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Folder and file glyphs as SVG: emoji fonts are not on every machine. */
function Icon({ dir }: { dir: boolean }): ReactNode {
  return (
    <svg className="icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
      {dir ? (
        <path d="M1.5 3.5h4l1.5 1.5h7.5v8h-13z" fill="var(--accent)" fillOpacity="0.25" stroke="var(--accent)" />
      ) : (
        <path d="M3.5 1.5h6l3 3v10h-9z M9.5 1.5v3h3" fill="none" stroke="var(--muted)" />
      )}
    </svg>
  );
}

export function ArtifactBrowser({ runId, selected }: { runId: string; selected: string }): ReactNode {
  const folder = selected.includes('/') ? selected.slice(0, selected.lastIndexOf('/')) : '';
  const [dir, setDir] = useState(folder);
  const [entries, setEntries] = useState<Entry[]>();
  const [error, setError] = useState<string>();
  const [shown, setShown] = useState<Preview>();

  useEffect(() => {
    let live = true;
    api.artifacts(runId, dir).then(
      (list) =>
        live &&
        setEntries([...list.items].sort((a, b) => Number(b.isDir) - Number(a.isDir) || a.path.localeCompare(b.path))),
      (e: unknown) => live && setError(errorText(e)),
    );
    return () => {
      live = false;
    };
  }, [runId, dir]);

  const file = entries?.find((e) => e.path === selected && !e.isDir);
  useEffect(() => {
    if (file === undefined) {
      setShown(undefined);
      return;
    }
    let live = true;
    setShown({ kind: 'loading' });
    preview(runId, file).then(
      (p) => live && setShown(p),
      (e: unknown) => live && setShown({ kind: 'error', message: e instanceof Error ? e.message : String(e) }),
    );
    return () => {
      live = false;
    };
  }, [runId, file]);

  const crumbs = dir === '' ? [] : dir.split('/');
  return (
    <div className="artifacts">
      <div className="artifact-list">
        <div className="crumbs">
          <button className="link" onClick={() => setDir('')}>
            artifacts
          </button>
          {crumbs.map((c, i) => (
            <span key={i}>
              {' / '}
              <button className="link" onClick={() => setDir(crumbs.slice(0, i + 1).join('/'))}>
                {c}
              </button>
            </span>
          ))}
        </div>
        {error !== undefined && <div className="banner error">{error}</div>}
        {entries !== undefined && entries.length === 0 && (
          <div className="empty small">No artifacts{dir === '' ? '' : ' in this folder'}.</div>
        )}
        <ul>
          {entries?.map((e) => (
            <li key={e.path} className={e.path === selected ? 'active' : ''}>
              <button
                className="link entry"
                onClick={() => (e.isDir ? setDir(e.path) : updateQuery({ artifact: e.path }))}
                title={e.path}
              >
                <Icon dir={e.isDir} /> {e.path.slice(dir === '' ? 0 : dir.length + 1)}
                {e.isDir ? '/' : ''}
              </button>
              <span className="muted small">{formatBytes(e.size)}</span>
            </li>
          ))}
        </ul>
      </div>
      <div className="artifact-preview" data-testid="artifact-preview">
        {file === undefined ? (
          <div className="empty small">Choose a file to preview it.</div>
        ) : (
          <>
            <div className="preview-head">
              <span className="mono">{file.path}</span>
              <span className="muted small">{formatBytes(file.size)}</span>
              <button onClick={() => void download(runId, file.path)}>Download</button>
            </div>
            {shown?.kind === 'loading' && <div className="muted">Loading…</div>}
            {(shown?.kind === 'text' || shown?.kind === 'json') && (
              <pre className={`preview-text ${shown.kind}`}>{shown.text}</pre>
            )}
            {shown?.kind === 'image' && <img className="preview-image" src={shown.url} alt={file.path} />}
            {shown?.kind === 'binary' && (
              <div className="muted">Binary or large file ({formatBytes(shown.size)}): download it to open.</div>
            )}
            {shown?.kind === 'error' && <div className="banner error">{shown.message}</div>}
            {shown?.kind === 'csv' && (
              <div className="csv-wrap">
                <table className="table csv">
                  <thead>
                    <tr>
                      {(shown.rows[0] ?? []).map((h, i) => (
                        <th key={i}>{h}</th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {shown.rows.slice(1).map((r, i) => (
                      <tr key={i}>
                        {r.map((v, j) => (
                          <td key={j}>{v}</td>
                        ))}
                      </tr>
                    ))}
                  </tbody>
                </table>
                {shown.total > CSV_ROWS && (
                  <div className="muted small">
                    First {CSV_ROWS} of {shown.total.toLocaleString()} rows.
                  </div>
                )}
              </div>
            )}
          </>
        )}
      </div>
    </div>
  );
}
