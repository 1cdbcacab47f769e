import { ApplicationFailure } from '@temporalio/common';
import { UNPROCESSABLE } from '../contracts/failures.js';

export function unprocessable(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: UNPROCESSABLE, message, nonRetryable: true });
}

/**
 * SQLSTATE classes that no retry can fix: 22 data exception, 23 integrity constraint
 * violation, 54 program limit exceeded (e.g. an index row too large).
 */
const PERMANENT_SQLSTATE = /^(22|23|54)/;

/** "database rejected the data (<SQLSTATE>): <message>" for a permanent database error, else undefined. */
export function permanentDatabaseError(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !PERMANENT_SQLSTATE.test(code)) return undefined;
  return `database rejected the data (${code}): ${(err as Error).message}`;
}

/**
 * The one place where failures are told apart: permanent ones become non-retryable
 * `Unprocessable` failures; everything else (network, database down, IMAP timeouts) is
 * rethrown as is and retried by Temporal with backoff.
 */
export function classifyFailure(err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  const permanent = permanentDatabaseError(err);
  return permanent ? unprocessable(permanent) : err;
}

type AsyncFn = (...args: never[]) => Promise<unknown>;

export function withFailureClassification<T extends Record<string, AsyncFn>>(activities: T): T {
  const wrapped: Record<string, AsyncFn> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        throw classifyFailure(err);
      }
    };
  }
  return wrapped as T;
}
