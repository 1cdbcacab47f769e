-- Up Migration

-- Triage (SPEC §4.5, issue 8): what became of a pre-ticket, an e-mail whose outcome is
-- `pre_ticket` (its mailbox does not convert automatically). One row per e-mail at most: the
-- primary key is what makes a pre-ticket converted or discarded once. The e-mail keeps its
-- outcome (`pre_ticket`, what its workflow recorded); a converted one is also the ticket's
-- source e-mail (ticket.source_email_id), so it shows its protocol like any e-mail that
-- opened a ticket. `request_id` names the API request that converted it: of two requests at
-- once, the other one is told who was first.
CREATE TABLE pre_ticket_triage (
  email_id    bigint PRIMARY KEY REFERENCES inbound_email(id) ON DELETE CASCADE,
  status      text NOT NULL CHECK (status IN ('converted', 'discarded')),
  ticket_id   bigint UNIQUE REFERENCES ticket(id),
  request_id  text,
  reason      text,
  by_user_id  bigint REFERENCES app_user(id),
  by_login    text NOT NULL,
  at          timestamptz NOT NULL DEFAULT now(),
  CHECK ((status = 'converted') = (ticket_id IS NOT NULL)),
  CHECK (status <> 'discarded' OR reason IS NOT NULL)
);

-- Down Migration

DROP TABLE pre_ticket_triage;
