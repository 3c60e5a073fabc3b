/** A page section: a heading with an optional count and controls, then its body or an empty note. */
import type { ReactNode } from 'react';

export function Section({
  title,
  count,
  extra,
  empty,
  testid,
  children,
}: {
  title: ReactNode;
  /** Shown beside the title; with `empty`, a count of 0 shows the empty note instead of the body. */
  count?: number;
  extra?: ReactNode;
  empty?: string;
  testid?: string;
  children?: ReactNode;
}): ReactNode {
  return (
    <section data-testid={testid}>
      <div className="section-head">
        <h2>{title}</h2>
        {count !== undefined && <span className="muted">{count}</span>}
        {extra}
      </div>
      {empty !== undefined && count === 0 ? <div className="empty small">{empty}</div> : children}
    </section>
  );
}

/** The datasets a run read: name, context (training, evaluation…), digest and source. */
export function DatasetTable({
  rows,
  testid,
  nameHeader = 'Name',
}: {
  rows: readonly { name: string; context: string; digest: string; source: string; sourceType?: string }[];
  testid: string;
  nameHeader?: string;
}): ReactNode {
  return (
    <table className="table" data-testid={testid}>
      <thead>
        <tr>
          <th>{nameHeader}</th>
          <th>Context</th>
          <th>Digest</th>
          <th>Source</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((d) => (
          <tr key={`${d.name}:${d.digest}`}>
            <td>{d.name}</td>
            <td>{d.context}</td>
            <td className="mono" title={d.digest}>
              {d.digest}
            </td>
            <td className="mono small">
              {d.sourceType !== undefined && d.sourceType !== '' && <span className="chip">{d.sourceType}</span>}{' '}
              {d.source}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
