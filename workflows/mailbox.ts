import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { continueAsNew, ParentClosePolicy, patched, proxyActivities, startChild, WorkflowIdReusePolicy, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { emailWorkflowId } from '../contracts/workflow-ids.js';
import { processEmail } from './email.js';

export interface WatchMailboxInput {
  mailboxId: number;
  /** How long one IMAP IDLE waits before looking again anyway (the polling fallback). */
  idleSeconds: number;
  /** Rounds before continue-as-new keeps the history short (default 200). */
  roundsPerRun?: number;
}

const MAX_BATCH = 100;
const ROUNDS_PER_RUN = 200;

/**
 * `mailbox:<id>`: stores new messages and starts one `email:` workflow per message. The cursor
 * moves only after the e-mail workflows exist, and their ids are deterministic, so a crash at
 * any point neither loses a message nor processes one twice.
 *
 * Since issue 8 the activity `readMailbox` does it all over one connection, batch after batch
 * (each e-mail's workflow starts as soon as its message is stored). Runs that began before
 * replay the old rounds: `waitForMail`, then the e-mail workflows started here as children, one
 * after another on the server (4.3 s of a 4.6 s round for 100 messages), then the cursor.
 */
export async function watchMailbox(input: WatchMailboxInput): Promise<never> {
  if (patched(READ_IN_ACTIVITY_PATCH)) return readContinuously(input);
  return startChildren(input);
}

const READ_IN_ACTIVITY_PATCH = 'watcher-reads-in-activity';

/** The wait, plus time to read (a batch, or up to eight minutes of batches); heartbeats catch a dead worker sooner. */
function readingOptions(idleSeconds: number) {
  return {
    startToCloseTimeout: `${idleSeconds + 600} seconds`,
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
  } as const;
}

async function readContinuously(input: WatchMailboxInput): Promise<never> {
  const { mailboxId, idleSeconds } = input;
  const { readMailbox } = proxyActivities<Activities>(readingOptions(idleSeconds));
  const rounds = input.roundsPerRun ?? ROUNDS_PER_RUN;
  for (let round = 0; round < rounds && !workflowInfo().continueAsNewSuggested; round++) {
    await readMailbox({ mailboxId, maxWaitSeconds: idleSeconds, maxBatch: MAX_BATCH });
  }
  return continueAsNew<typeof watchMailbox>(input);
}

async function startChildren(input: WatchMailboxInput): Promise<never> {
  const { mailboxId, idleSeconds } = input;
  const { waitForMail } = proxyActivities<Activities>(readingOptions(idleSeconds));
  const { advanceMailboxCursor } = proxyActivities<Activities>({
    startToCloseTimeout: '30 seconds',
    retry: { maximumInterval: '1 minute' },
  });

  const rounds = input.roundsPerRun ?? ROUNDS_PER_RUN;
  for (let round = 0; round < rounds && !workflowInfo().continueAsNewSuggested; round++) {
    const mail = await waitForMail({ mailboxId, maxWaitSeconds: idleSeconds, maxBatch: MAX_BATCH });
    if (mail.uids.length === 0) continue;
    await Promise.all(
      mail.uids.map(async (uid) => {
        const ref = { mailboxId, uidValidity: mail.uidValidity, uid };
        try {
          await startChild(processEmail, {
            workflowId: emailWorkflowId(ref),
            args: [ref],
            parentClosePolicy: ParentClosePolicy.ABANDON,
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
            staticSummary: `E-mail UID ${uid} of mailbox ${mailboxId}`,
          });
        } catch (err) {
          // Started by an earlier run that crashed before moving the cursor.
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        }
      }),
    );
    await advanceMailboxCursor({ mailboxId, uidValidity: mail.uidValidity, lastUid: Math.max(...mail.uids) });
  }
  return continueAsNew<typeof watchMailbox>(input);
}
