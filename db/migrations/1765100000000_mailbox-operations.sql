-- Up Migration

-- Running a mailbox (issue 8, "mailboxes people can run"):
--  - post_processed_at / post_processing: what was done to the message on the server once its
--    outcome was recorded (left, marked \Seen, moved; skipped when its UIDVALIDITY is gone; none
--    for pushed mail). E-mails stored before this migration count as done ('-infinity', no
--    rewrite of the table): switching a mailbox to "move" does not move years of old mail.
--  - reprocess_count: how many times a quarantined e-mail was sent through its workflow again
--    (each run has its own workflow id, email:<mailbox>:<uidvalidity>:<uid>:reprocess-<n>);
--    email_outcome_history keeps the outcomes it had before.
--  - mailbox_status: what the watcher saw last (connection, error, last message read, folder).
--  - inbound_push_uid: pushed mail (POST /inbound/:mailbox) has no IMAP UID; it is stored at
--    UIDVALIDITY 0 with a UID from this sequence.
ALTER TABLE inbound_email
  ADD COLUMN post_processed_at timestamptz DEFAULT '-infinity',
  ADD COLUMN post_processing   text CHECK (post_processing IN ('left', 'seen', 'moved', 'skipped', 'none')),
  ADD COLUMN reprocess_count   integer NOT NULL DEFAULT 0;
ALTER TABLE inbound_email ALTER COLUMN post_processed_at DROP DEFAULT;

CREATE INDEX inbound_email_post_processing ON inbound_email (mailbox_id, uid_validity, uid)
  WHERE outcome IS NOT NULL AND post_processed_at IS NULL;
CREATE INDEX inbound_email_pending ON inbound_email (mailbox_id) WHERE outcome IS NULL;

CREATE TABLE email_outcome_history (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email_id        bigint NOT NULL REFERENCES inbound_email(id) ON DELETE CASCADE,
  outcome         text NOT NULL,
  outcome_reason  text,
  outcome_at      timestamptz,
  replaced_at     timestamptz NOT NULL DEFAULT now(),
  replaced_by     text NOT NULL
);
CREATE INDEX email_outcome_history_email ON email_outcome_history (email_id, id);

CREATE TABLE mailbox_status (
  mailbox_id              bigint PRIMARY KEY REFERENCES mailbox(id) ON DELETE CASCADE,
  connected               boolean NOT NULL DEFAULT false,
  connected_at            timestamptz,
  seen_at                 timestamptz,
  last_error              text,
  last_error_at           timestamptz,
  last_read_at            timestamptz,
  last_read_uid_validity  bigint,
  last_read_uid           bigint,
  server_uid_validity     bigint,
  server_messages         integer,
  server_backlog          integer,
  checked_at              timestamptz
);

CREATE SEQUENCE inbound_push_uid;

-- Down Migration

DROP SEQUENCE inbound_push_uid;
DROP TABLE mailbox_status;
DROP TABLE email_outcome_history;
DROP INDEX inbound_email_pending;
DROP INDEX inbound_email_post_processing;
ALTER TABLE inbound_email DROP COLUMN post_processed_at, DROP COLUMN post_processing, DROP COLUMN reprocess_count;
