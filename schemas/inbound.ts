import { z } from 'zod';
import { idParam } from './common.js';

/** Mail pushed over HTTP (`POST /inbound/{mailbox}`): a raw RFC 5322 message for a mailbox. */
export const inboundPath = z.object({ mailbox: idParam.describe('the id of the mailbox the message is for') });

export const inboundAccepted = z
  .object({
    emailId: z.number().describe('the stored e-mail; follow it at `GET /emails/{emailId}`'),
    workflowId: z.string().describe('its e-mail workflow in the Temporal UI: `email:<mailbox>:0:<uid>`'),
    repeated: z.boolean().describe('true: the same Message-ID was pushed before and has no outcome yet; this is that e-mail, nothing new was stored'),
  })
  .meta({ id: 'InboundAccepted' });

export type InboundAccepted = z.infer<typeof inboundAccepted>;
