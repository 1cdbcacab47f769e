-- Up Migration

-- A Message-ID is whatever the sender wrote, of any length: a btree on the text itself
-- refuses rows above ~2.7 KB (SQLSTATE 54000), and one such message would stop its mailbox.
-- The index holds a fixed-size hash; lookups compare md5(message_id) and then the full text.
CREATE INDEX inbound_email_message_id_md5 ON inbound_email (mailbox_id, md5(message_id));
DROP INDEX inbound_email_message_id;

-- Down Migration

-- Fails if a stored Message-ID no longer fits a btree row.
CREATE INDEX inbound_email_message_id ON inbound_email (mailbox_id, message_id);
DROP INDEX inbound_email_message_id_md5;
