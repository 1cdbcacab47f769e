import { ActivityFailure, isCancellation, proxyActivities } from '@temporalio/workflow';
import type { AlertActivities } from '../activities/alerts.js';

type Channel = 'email' | 'webhook';

export interface AlertDeliveryInput {
  firingId: number;
  channels: Channel[];
}

export interface ChannelResult {
  channel: string;
  delivered: boolean;
  error?: string;
}

// About an hour of attempts (1 s doubling to 5 minutes, 12 in all), then the channel is given up.
const send = proxyActivities<AlertActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 12 },
});

// Recording the outcome is a database write: retried for as long as the database is away.
const record = proxyActivities<AlertActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/**
 * The delivery of one fired alert (`alert:<firing id>`, SPEC §6): every channel at once, each
 * retried with backoff on its own. It never fails: a channel that cannot be delivered is
 * recorded as failed and reported in the result, so nothing that started it is held up.
 */
export async function deliverAlert(input: AlertDeliveryInput): Promise<ChannelResult[]> {
  return Promise.all(input.channels.map((channel) => deliverChannel(input.firingId, channel)));
}

async function deliverChannel(firingId: number, channel: Channel): Promise<ChannelResult> {
  try {
    const sent = await send.deliverAlert({ firingId, channel });
    return { channel, delivered: sent.delivered };
  } catch (err) {
    // Cancelling the delivery is someone's decision, not a failure of the channel.
    if (isCancellation(err)) throw err;
    const error = err instanceof ActivityFailure ? (err.cause?.message ?? err.message) : String(err);
    try {
      await record.alertDeliveryFailed({ firingId, channel, error });
    } catch {
      // Only a refusal ends up here (the write itself is retried without end); the result still says why.
    }
    return { channel, delivered: false, error };
  }
}
