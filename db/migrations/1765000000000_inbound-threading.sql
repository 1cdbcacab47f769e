-- Up Migration

-- What an inbound e-mail can do besides opening a ticket (SPEC §4.2, §4.4, §4.11; issue 8).

-- A reply appended to a ticket (threading), or an e-mail past its sender's hourly limit: one
-- ticket per e-mail at most, so a retried append adds it once. Its attachments are the e-mail's.
CREATE TABLE ticket_message (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ticket_id   bigint NOT NULL REFERENCES ticket(id) ON DELETE CASCADE,
  email_id    bigint NOT NULL UNIQUE REFERENCES inbound_email(id),
  via         text NOT NULL CHECK (via IN ('header', 'subject', 'sender_limit')),
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ticket_message_ticket ON ticket_message (ticket_id, email_id);

-- A reply to a closed or cancelled ticket opens a new ticket that links to it.
ALTER TABLE ticket ADD COLUMN follows_up_ticket_id bigint REFERENCES ticket(id);

-- A reply names a Message-ID that may have arrived through any mailbox.
CREATE INDEX inbound_email_message_id_any ON inbound_email (md5(message_id));

-- The per-sender limit counts a customer's recent tickets of a mailbox.
CREATE INDEX ticket_customer_recent ON ticket (customer_id, mailbox_id, created_at);

-- Mail we send about a ticket (the acknowledgement), recorded before it is sent: its fixed
-- Message-ID threads replies back and lets bounces be linked; `status` makes it at most once
-- (README, "Inbound mail").
CREATE TABLE outbound_email (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ticket_id   bigint NOT NULL REFERENCES ticket(id) ON DELETE CASCADE,
  kind        text NOT NULL CHECK (kind IN ('acknowledgement')),
  message_id  text NOT NULL UNIQUE,
  recipient   text NOT NULL,
  subject     text NOT NULL,
  status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'uncertain')),
  attempts    integer NOT NULL DEFAULT 0,
  last_error  text,
  sent_at     timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (ticket_id, kind)
);

-- Down Migration

DROP TABLE outbound_email;
DROP INDEX ticket_customer_recent;
DROP INDEX inbound_email_message_id_any;
ALTER TABLE ticket DROP COLUMN follows_up_ticket_id;
DROP TABLE ticket_message;
