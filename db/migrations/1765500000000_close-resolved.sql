-- Up Migration

-- A resolved ticket closes by itself this many hours after it was resolved, unless the customer
-- replies first (which reopens it); NULL: it stays resolved until someone closes it. Per mailbox,
-- read when the ticket is resolved; the ticket's workflow waits for it on a durable timer.
ALTER TABLE mailbox
  ADD COLUMN close_resolved_after_hours integer DEFAULT 96 CHECK (close_resolved_after_hours BETWEEN 1 AND 8760);

-- Down Migration

ALTER TABLE mailbox DROP COLUMN close_resolved_after_hours;
