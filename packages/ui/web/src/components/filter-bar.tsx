/**
 * The filter box of a search: the search grammar as text (MLflow's plus OR and parentheses),
 * applied on Enter; the server parses it, and a parse error is shown under the text with a
 * caret at the position the parser named.
 */
import { useEffect, useRef, useState, type ReactNode } from 'react';

interface Props {
  value: string;
  placeholder: string;
  onApply: (filter: string) => void;
  /** The server's message and the position it named, when the last filter was refused. */
  error?: { message: string; position?: number } | undefined;
  /** A failure to load the results (not the filter's fault), shown as a banner below. */
  loadError?: string | undefined;
}

export function FilterBar({ value, placeholder, onApply, error, loadError }: Props): ReactNode {
  const [text, setText] = useState(value);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => setText(value), [value]);
  // `/` focuses the filter from anywhere on the page, as in most tools.
  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent): void => {
      const target = e.target as HTMLElement | null;
      if (e.key === '/' && target?.tagName !== 'INPUT' && target?.tagName !== 'TEXTAREA') {
        e.preventDefault();
        input.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  const position = error?.position;
  return (
    <>
      <div className="filter-bar">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            onApply(text.trim());
          }}
        >
          <input
            ref={input}
            className={`filter-input${error === undefined ? '' : ' invalid'}`}
            aria-label="filter"
            aria-invalid={error !== undefined}
            spellCheck={false}
            value={text}
            placeholder={placeholder}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') {
                setText('');
                onApply('');
              }
            }}
          />
          <button type="submit">Search</button>
        </form>
        {error !== undefined && (
          <div className="filter-error" role="alert">
            {position !== undefined && (
              <pre className="filter-caret" aria-hidden="true">
                {value}
                {'\n'}
                {' '.repeat(Math.max(0, Math.min(position, value.length)))}^
              </pre>
            )}
            <span>{error.message}</span>
          </div>
        )}
      </div>
      {loadError !== undefined && (
        <div className="banner error" role="alert">
          {loadError}
        </div>
      )}
    </>
  );
}
