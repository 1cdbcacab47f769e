import { inspect } from 'node:util';
import { DefaultLogger, Runtime, type LogEntry, type LogLevel } from '@temporalio/worker';
import { MAILBOX_AUTH_REFUSED, MAILBOX_AUTH_REFUSED_ADVICE, UNPROCESSABLE } from '../contracts/failures.js';

const SEVERITY: Record<LogLevel, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };

function write(entry: LogEntry, level: LogLevel, line: string): void {
  process.stderr.write(`${new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString()} [${level}] ${line}\n`);
}

/** Activities that send something out and are retried with backoff when the other side refuses. */
const RETRIED_SENDS = ['deliverAlert', 'acknowledgeTicket'];

/**
 * The worker's log: as the SDK writes it, except for failures that are expected outcomes, each
 * one line without a stack trace: an activity failing on purpose (an `Unprocessable` message,
 * which its workflow records as quarantined) at INFO, an attempt to deliver an alert or send an
 * acknowledgement that the receiver or the mail server refused (retried with backoff, recorded
 * on the delivery or the outbound e-mail) at WARN, and a mailbox whose OAuth 2.0 authorisation
 * was refused for good (shown in its status) at WARN: its activity's failure, then its watcher
 * stopping.
 */
export function workerLogger(level: LogLevel): DefaultLogger {
  return new DefaultLogger(level, (entry) => {
    const error = (entry.meta as { error?: { type?: string; message?: string } } | undefined)?.error;
    if (entry.message === 'Activity failed' && error?.type === UNPROCESSABLE) {
      if (SEVERITY[level] > SEVERITY.INFO) return;
      const { activityType, workflowId } = entry.meta as { activityType?: string; workflowId?: string };
      // The parse runs beside the classification: automatic mail it refuses is still ignored, not quarantined.
      const fate = activityType === 'parseEmail' ? 'quarantined, unless it is automatic mail, which is ignored' : 'quarantined';
      return write(entry, 'INFO', `${workflowId}: ${activityType} refused the message: ${error.message} (it is ${fate})`);
    }
    const cause = (error as { cause?: { type?: string; message?: string } } | undefined)?.cause;
    const refused = (e: { type?: string; message?: string } | undefined) => e?.type === MAILBOX_AUTH_REFUSED || e?.message?.endsWith(MAILBOX_AUTH_REFUSED_ADVICE) === true;
    if ((entry.message === 'Activity failed' || entry.message === 'Workflow failed') && (refused(error) || refused(cause))) {
      if (SEVERITY[level] > SEVERITY.WARN) return;
      const { workflowId } = entry.meta as { workflowId?: string };
      const stopped = entry.message === 'Workflow failed' ? 'stopped: ' : '';
      return write(entry, 'WARN', `${workflowId}: ${stopped}${refused(error) ? error?.message : cause?.message}`);
    }
    if (entry.message === 'Activity failed' && RETRIED_SENDS.includes((entry.meta as { activityType?: string } | undefined)?.activityType ?? '')) {
      if (SEVERITY[level] > SEVERITY.WARN) return;
      const { workflowId, attempt } = entry.meta as { workflowId?: string; attempt?: number };
      return write(entry, 'WARN', `${workflowId}: attempt ${attempt} failed, retried with backoff: ${error?.message}`);
    }
    write(entry, entry.level, entry.meta === undefined ? entry.message : `${entry.message} ${inspect(entry.meta, { depth: 4, breakLength: Infinity })}`);
  });
}

/** The SDK's level for a LOG_LEVEL setting. */
export function sdkLogLevel(level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'): LogLevel {
  if (level === 'debug' || level === 'trace') return level.toUpperCase() as LogLevel;
  return level === 'info' ? 'INFO' : level === 'warn' ? 'WARN' : 'ERROR';
}

let installed = false;

/**
 * Installs the SDK runtime with this logger, once per process (later calls do nothing). The
 * native core's own log lines go through it too, at `coreLevel` at the least severe (default:
 * `level`).
 */
export function installRuntime(level: LogLevel, opts: { shutdownSignals?: NodeJS.Signals[]; coreLevel?: LogLevel } = {}): void {
  if (installed) return;
  Runtime.install({
    logger: workerLogger(level),
    telemetryOptions: { logging: { filter: { core: opts.coreLevel ?? level, other: 'ERROR' }, forward: {} } },
    ...(opts.shutdownSignals ? { shutdownSignals: opts.shutdownSignals } : {}),
  });
  installed = true;
}
