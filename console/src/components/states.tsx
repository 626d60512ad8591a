/** Loading, empty and error states, each announced to screen readers. */
import type { ReactNode } from 'react';
import { ApiError } from '../api.ts';

export function Loading({ label = 'Loading…' }: { label?: string }): ReactNode {
  return (
    <p className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {label}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }): ReactNode {
  return (
    <div className="state state-empty" role="status">
      {children}
    </div>
  );
}

export function ErrorBox({ error, onRetry }: { error: Error; onRetry?: () => void }): ReactNode {
  const code = error instanceof ApiError ? ` (${error.status} ${error.code})` : '';
  return (
    <div className="state state-error" role="alert">
      <strong>Something went wrong{code}.</strong> <span>{error.message}</span>
      {error instanceof ApiError && error.status === 401 ? <span> Enter an API key with the Key button above.</span> : null}
      {onRetry ? (
        <button type="button" onClick={onRetry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

export function StatusBadge({ status }: { status: string }): ReactNode {
  return <span className={`badge status-${status}`}>{status.replace(/_/g, ' ')}</span>;
}
