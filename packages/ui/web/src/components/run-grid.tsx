/**
 * The runs table: only the rows and columns in view are in the DOM (both axes are
 * virtualised), so 10,000 runs × 1,000 columns scroll like 20 × 10. The run name column stays
 * pinned on the left; the header stays on top. Keyboard: ↑/↓ (or j/k), PageUp/PageDown,
 * Home/End move; ←/→ scroll the columns; Space selects; Enter opens the run.
 */
import {
  useCallback,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type CSSProperties,
  type KeyboardEvent,
  type ReactNode,
} from 'react';
import { cellText, type Column, type RunRow } from '../run-columns';
import { linkClick, navigate } from '../router';

const ROW_HEIGHT = 30;
const CHECK_WIDTH = 36;
const OVERSCAN_ROWS = 8;
const OVERSCAN_PX = 200;

export interface SortState {
  field: string;
  desc: boolean;
}

interface Props {
  rows: readonly RunRow[];
  columns: readonly Column[];
  /** How many leading columns stay pinned (after the checkbox). */
  pinned: number;
  selected: ReadonlySet<string>;
  onToggle: (runId: string) => void;
  onToggleAll: () => void;
  sort: SortState | undefined;
  onSort: (column: Column) => void;
  /** Called with the last row index in view, to load the next page in time. */
  onReachRow: (index: number) => void;
  footer?: ReactNode;
}

/** First index whose offset end is past `x` (offsets are cumulative left edges). */
function firstAfter(offsets: readonly number[], widths: readonly number[], x: number): number {
  let lo = 0;
  let hi = offsets.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((offsets[mid] ?? 0) + (widths[mid] ?? 0) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function RunGrid(props: Props): ReactNode {
  const { rows, columns, pinned, selected, sort } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, left: 0, width: 1200, height: 600 });
  const [focus, setFocus] = useState(0);
  const frame = useRef(0);

  const layout = useMemo(() => {
    const widths = columns.map((c) => c.width);
    const offsets: number[] = [];
    let x = CHECK_WIDTH;
    for (const w of widths) {
      offsets.push(x);
      x += w;
    }
    return { widths, offsets, total: x };
  }, [columns]);

  const measure = useCallback(() => {
    const el = scroller.current;
    if (el === null) return;
    setView({ top: el.scrollTop, left: el.scrollLeft, width: el.clientWidth, height: el.clientHeight });
  }, []);
  useLayoutEffect(() => {
    measure();
    const el = scroller.current;
    if (el === null) return;
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, [measure]);
  const onScroll = (): void => {
    cancelAnimationFrame(frame.current);
    frame.current = requestAnimationFrame(measure);
  };

  const bodyTop = view.top;
  const firstRow = Math.max(0, Math.floor(bodyTop / ROW_HEIGHT) - OVERSCAN_ROWS);
  const lastRow = Math.min(rows.length - 1, Math.ceil((bodyTop + view.height) / ROW_HEIGHT) + OVERSCAN_ROWS);
  const pinnedWidth = (layout.offsets[pinned] ?? layout.total) - CHECK_WIDTH;
  const firstCol = Math.max(
    pinned,
    firstAfter(layout.offsets, layout.widths, view.left + CHECK_WIDTH + pinnedWidth - OVERSCAN_PX),
  );
  let lastCol = firstCol;
  while (lastCol < columns.length - 1 && (layout.offsets[lastCol + 1] ?? 0) < view.left + view.width + OVERSCAN_PX)
    lastCol++;
  const gap = (layout.offsets[firstCol] ?? layout.total) - CHECK_WIDTH - pinnedWidth;

  const { onReachRow } = props;
  useEffect(() => onReachRow(lastRow), [lastRow, onReachRow]);

  const scrollToRow = (index: number): void => {
    const el = scroller.current;
    if (el === null) return;
    const top = index * ROW_HEIGHT;
    const headerH = ROW_HEIGHT;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW_HEIGHT > el.scrollTop + el.clientHeight - headerH)
      el.scrollTop = top + ROW_HEIGHT * 2 - el.clientHeight;
  };
  const moveTo = (index: number): void => {
    const next = Math.max(0, Math.min(rows.length - 1, index));
    setFocus(next);
    scrollToRow(next);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>): void => {
    const page = Math.max(1, Math.floor(view.height / ROW_HEIGHT) - 2);
    const row = rows[focus];
    switch (e.key) {
      case 'ArrowDown':
      case 'j':
        moveTo(focus + 1);
        break;
      case 'ArrowUp':
      case 'k':
        moveTo(focus - 1);
        break;
      case 'PageDown':
        moveTo(focus + page);
        break;
      case 'PageUp':
        moveTo(focus - page);
        break;
      case 'Home':
        moveTo(0);
        break;
      case 'End':
        moveTo(rows.length - 1);
        break;
      case 'ArrowRight':
      case 'ArrowLeft':
        // Columns scroll by a few at a time; the name column stays pinned.
        if (scroller.current !== null) scroller.current.scrollLeft += (e.key === 'ArrowRight' ? 1 : -1) * 360;
        break;
      case ' ':
        if (row !== undefined) props.onToggle(row.run.info.runId);
        break;
      case 'Enter':
        if (row !== undefined) navigate(`/runs/${encodeURIComponent(row.run.info.runId)}`);
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  const renderCells = (render: (c: Column, i: number, style: CSSProperties) => ReactNode): ReactNode[] => {
    const out: ReactNode[] = [];
    for (let i = 0; i < Math.min(pinned, columns.length); i++) {
      const c = columns[i];
      if (c !== undefined) out.push(render(c, i, { width: c.width, left: layout.offsets[i], position: 'sticky' }));
    }
    if (gap > 0) out.push(<div key="gap" style={{ width: gap, flex: 'none' }} />);
    for (let i = firstCol; i <= lastCol && i < columns.length; i++) {
      const c = columns[i];
      if (c !== undefined) out.push(render(c, i, { width: c.width }));
    }
    return out;
  };

  const allSelected = rows.length > 0 && rows.every((r) => selected.has(r.run.info.runId));
  const visible: ReactNode[] = [];
  for (let r = firstRow; r <= lastRow; r++) {
    const row = rows[r];
    if (row === undefined) continue;
    const id = row.run.info.runId;
    const href = `/runs/${encodeURIComponent(id)}`;
    visible.push(
      <div
        key={id}
        role="row"
        aria-rowindex={r + 2}
        aria-selected={selected.has(id)}
        className={`grid-row${r === focus ? ' focused' : ''}${selected.has(id) ? ' selected' : ''}`}
        style={{ top: (r + 1) * ROW_HEIGHT, width: layout.total }}
        onMouseDown={() => setFocus(r)}
      >
        <div className="cell check pinned" style={{ width: CHECK_WIDTH, left: 0, position: 'sticky' }}>
          <input
            type="checkbox"
            aria-label={`select ${row.run.info.runName}`}
            checked={selected.has(id)}
            onChange={() => props.onToggle(id)}
            tabIndex={-1}
          />
        </div>
        {renderCells((c, i, style) => {
          const text = cellText(row, c);
          const cls = `cell${c.numeric ? ' num' : ''}${i < pinned ? ' pinned' : ''}${c.id === 'status' ? ` status status-${text.toLowerCase()}` : ''}`;
          return c.id === 'run_name' ? (
            <div key={c.id} role="gridcell" className={cls} style={style}>
              <a href={href} onClick={linkClick(href)} tabIndex={-1}>
                {text === '' ? id : text}
              </a>
            </div>
          ) : (
            <div key={c.id} role="gridcell" className={cls} style={style} title={text}>
              {text}
            </div>
          );
        })}
      </div>,
    );
  }

  return (
    <div
      ref={scroller}
      className="grid"
      role="grid"
      aria-rowcount={rows.length + 1}
      aria-colcount={columns.length + 1}
      tabIndex={0}
      onScroll={onScroll}
      onKeyDown={onKeyDown}
    >
      <div className="grid-canvas" style={{ height: (rows.length + 1) * ROW_HEIGHT + 2, width: layout.total }}>
        <div className="grid-row header" role="row" aria-rowindex={1} style={{ width: layout.total }}>
          <div className="cell check pinned" style={{ width: CHECK_WIDTH, left: 0, position: 'sticky' }}>
            <input
              type="checkbox"
              aria-label="select all loaded runs"
              checked={allSelected}
              onChange={props.onToggleAll}
              tabIndex={-1}
            />
          </div>
          {renderCells((c, i, style) => {
            const sorted = sort !== undefined && c.sortField === sort.field;
            return (
              <div
                key={c.id}
                role="columnheader"
                data-col={c.id}
                aria-sort={sorted ? (sort.desc ? 'descending' : 'ascending') : 'none'}
                className={`cell head ${c.kind}${c.numeric ? ' num' : ''}${i < pinned ? ' pinned' : ''}${c.sortField === undefined ? '' : ' sortable'}`}
                style={style}
                title={c.sortField === undefined ? c.id : `${c.id}: click to sort`}
                onClick={() => c.sortField !== undefined && props.onSort(c)}
              >
                {c.kind !== 'attribute' && (
                  <span className="kind">{c.kind === 'metric' ? 'm' : c.kind === 'param' ? 'p' : 't'}</span>
                )}
                <span className="label">{c.label}</span>
                {sorted && <span className="arrow">{sort.desc ? '↓' : '↑'}</span>}
              </div>
            );
          })}
        </div>
        {visible}
      </div>
      {props.footer}
    </div>
  );
}
