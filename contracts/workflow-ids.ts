/** Readable, deterministic workflow ids (SPEC §9). */
export interface EmailRef {
  mailboxId: number;
  uidValidity: number;
  uid: number;
}

export function emailWorkflowId(ref: EmailRef): string {
  return `email:${ref.mailboxId}:${ref.uidValidity}:${ref.uid}`;
}

export function mailboxWorkflowId(mailboxId: number): string {
  return `mailbox:${mailboxId}`;
}

export function ticketWorkflowId(protocol: string): string {
  return `ticket:${protocol}`;
}

/** The assignment workflow of a pool (SPEC §5): `assigner:group-3`, `assigner:sector-1`. */
export function assignerWorkflowId(poolKey: string): string {
  return `assigner:${poolKey}`;
}

/** The delivery of one fired alert (SPEC §6): `alert:<firing id>`. */
export function alertWorkflowId(firingId: number): string {
  return `alert:${firingId}`;
}
