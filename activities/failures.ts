import { ApplicationFailure } from '@temporalio/common';
import { UNPROCESSABLE } from '../domain/failures.js';

export function unprocessable(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: UNPROCESSABLE, message, nonRetryable: true });
}

/** SQLSTATE classes that no retry can fix: 22 data exception, 23 integrity constraint violation. */
const PERMANENT_SQLSTATE = /^(22|23)/;

/**
 * The one place where failures are told apart: permanent ones become non-retryable
 * `Unprocessable` failures; everything else (network, database down, IMAP timeouts) is
 * rethrown as is and retried by Temporal with backoff.
 */
export function classifyFailure(err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && PERMANENT_SQLSTATE.test(code)) {
    return unprocessable(`database rejected the data (${code}): ${(err as Error).message}`);
  }
  return err;
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
