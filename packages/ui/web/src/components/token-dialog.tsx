/**
 * Asks for an API token when the server runs with `--auth`. The token is checked, then kept in
 * this tab's session storage only (gone when the tab closes).
 */
import { useState, type ReactNode } from 'react';
import { api, setToken } from '../api';

export function TokenDialog({ reason, onDone }: { reason: string; onDone: () => void }): ReactNode {
  const [text, setText] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  return (
    <div className="modal-backdrop">
      <form
        className="modal"
        role="dialog"
        aria-label="API token"
        onSubmit={(e) => {
          e.preventDefault();
          setBusy(true);
          api.checkToken(text.trim()).then(
            () => {
              setToken(text.trim());
              onDone();
            },
            (err: unknown) => {
              setBusy(false);
              setError(err instanceof Error ? err.message : String(err));
            },
          );
        }}
      >
        <h2>This server needs an API token</h2>
        {/* The server's own message is written for SDK users; show it only when it says more than "needs a token". */}
        {!reason.startsWith('this server requires an API token') && <p className="muted">{reason}</p>}
        <p>
          Paste a token (an admin makes one with <code>trestle tokens create --name NAME --role reader</code>). It is
          kept for this tab only.
        </p>
        <input
          type="password"
          autoFocus
          aria-label="token"
          placeholder="trestle_…"
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        {error !== undefined && (
          <div className="banner error" role="alert">
            {error}
          </div>
        )}
        <div className="modal-actions">
          <button type="submit" className="primary" disabled={busy || text.trim() === ''}>
            {busy ? 'Checking…' : 'Use token'}
          </button>
        </div>
      </form>
    </div>
  );
}
