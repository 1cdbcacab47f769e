/**
 * What a bounce says about the message that could not be delivered (RFC 3464 and what servers
 * write instead), so a bounce of mail we sent (an acknowledgement, an alert) can be linked to
 * its ticket. Pure: it reads texts the caller took from the bounce (its decoded parts
 * `message/delivery-status`, `message/rfc822`, `text/rfc822-headers`, its text body, and its
 * raw body), nearest to the standard first.
 */

/**
 * The Message-IDs a bounce quotes: the `Message-ID:` fields of the returned message or of its
 * header section (DSN parts, qmail's and sendmail's "copy of the message" in the body), in
 * order of appearance, each once. Which of them is ours is the caller's lookup.
 */
export function quotedMessageIds(texts: readonly string[]): string[] {
  const ids: string[] = [];
  for (const text of texts) {
    for (const m of text.matchAll(/^[ \t>]*Message-ID:[ \t]*(?:\r?\n[ \t]+)?(<[^<>\s]+>)/gim)) ids.push(m[1]!);
  }
  return [...new Set(ids)];
}

/**
 * The recipients whose delivery failed, lower-cased, each once: the per-recipient fields of a
 * delivery status (`Final-Recipient` of a block whose `Action` is `failed`, or of every block
 * when none says), else `X-Failed-Recipients` (Exim, Gmail), else qmail's `<address>:` lines.
 */
export function failedRecipients(texts: readonly string[], xFailedRecipients: string | undefined): string[] {
  const dsn: string[] = [];
  const anyAction: string[] = [];
  for (const text of texts) {
    for (const block of text.split(/\r?\n[ \t]*\r?\n/)) {
      const recipient = /^[ \t]*Final-Recipient:[ \t]*(?:rfc822[ \t]*;)?[ \t]*<?([^\s<>;]+@[^\s<>;]+)>?/im.exec(block)?.[1];
      if (!recipient) continue;
      const action = /^[ \t]*Action:[ \t]*([\w-]+)/im.exec(block)?.[1]?.toLowerCase();
      if (action === 'failed') dsn.push(recipient);
      else if (action === undefined) anyAction.push(recipient);
    }
  }
  const found = dsn.length > 0 ? dsn : anyAction;
  if (found.length > 0) return unique(found);
  if (xFailedRecipients) return unique(xFailedRecipients.split(',').map((a) => a.trim().replace(/^<|>$/g, '')).filter((a) => a.includes('@')));
  const qmail: string[] = [];
  for (const text of texts) for (const m of text.matchAll(/^<([^\s<>]+@[^\s<>]+)>:[ \t]*$/gm)) qmail.push(m[1]!);
  return unique(qmail);
}

function unique(addresses: string[]): string[] {
  return [...new Set(addresses.map((a) => a.toLowerCase()))];
}

/**
 * The Message-ID of an alert e-mail (activities/alerts.ts writes `<alert-<firing id>@mailtrack>`),
 * and the firing id back from one.
 */
export function alertMessageId(firingId: number): string {
  return `<alert-${firingId}@mailtrack>`;
}

export function alertFiringIdOf(messageId: string): number | undefined {
  const m = /^<alert-(\d{1,15})@mailtrack>$/.exec(messageId);
  return m ? Number(m[1]) : undefined;
}
