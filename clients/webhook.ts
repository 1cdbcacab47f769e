import { createHmac } from 'node:crypto';

export const WEBHOOK_TIMEOUT_MS = 10_000;

/** The headers a receiver reads; the README documents how to verify the signature. */
export const WEBHOOK_HEADERS = {
  delivery: 'Mailtrack-Delivery',
  timestamp: 'Mailtrack-Timestamp',
  signature: 'Mailtrack-Signature',
} as const;

/**
 * `sha256=<hex>` of HMAC-SHA256 over `<timestamp>.<raw body>` (the Stripe and Slack scheme):
 * the timestamp inside the signed text lets a receiver refuse replays of an old request.
 */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export interface WebhookRequest {
  url: string;
  /** The raw JSON text, sent and signed byte for byte. */
  body: string;
  /** Stable across retries, for the receiver's dedupe. */
  deliveryId: string;
  /** Opened secret; no signature header without one. */
  secret: string | null;
  now?: () => Date;
}

/** Why a webhook was not delivered, worded so that it can be stored and logged: no URL, no secret. */
export class WebhookError extends Error {}

/** POSTs once; any answer but 2xx, a timeout or a network error throws a WebhookError. */
export async function postWebhook(req: WebhookRequest): Promise<{ status: number }> {
  const timestamp = Math.floor((req.now?.() ?? new Date()).getTime() / 1000);
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': 'mailtrack-alerts',
    [WEBHOOK_HEADERS.delivery]: req.deliveryId,
    [WEBHOOK_HEADERS.timestamp]: String(timestamp),
  };
  if (req.secret) headers[WEBHOOK_HEADERS.signature] = webhookSignature(req.secret, timestamp, req.body);
  let res: Response;
  try {
    res = await fetch(req.url, { method: 'POST', headers, body: req.body, redirect: 'manual', signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS) });
  } catch (err) {
    throw new WebhookError(describeFetchError(err));
  }
  // The answer's body is not ours to keep; reading it frees the connection.
  await res.body?.cancel().catch(() => {});
  if (res.status < 200 || res.status > 299) throw new WebhookError(`webhook answered HTTP ${res.status}`);
  return { status: res.status };
}

/** fetch's errors carry the URL only in `cause` chains we do not print; keep the code and the kind. */
function describeFetchError(err: unknown): string {
  const e = err as { name?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return `webhook did not answer within ${WEBHOOK_TIMEOUT_MS / 1000} s`;
  const code = e?.cause?.code;
  return code ? `webhook request failed: ${code}` : 'webhook request failed';
}
