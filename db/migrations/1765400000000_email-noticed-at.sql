-- Up Migration

-- When the mailbox watcher learned of the message (the server's IMAP IDLE notification, or the
-- round that found it): `received_at` is when it was stored. Shown with the e-mail; the inbound
-- benchmark measures the engine's own part of a message's way from here to its ticket.
ALTER TABLE inbound_email ADD COLUMN noticed_at timestamptz;

-- Down Migration

ALTER TABLE inbound_email DROP COLUMN noticed_at;
