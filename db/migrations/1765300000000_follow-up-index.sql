-- Up Migration

-- The ticket detail lists the tickets that follow a closed one up (SPEC §4.4).
CREATE INDEX ticket_follows_up ON ticket (follows_up_ticket_id) WHERE follows_up_ticket_id IS NOT NULL;

-- Down Migration

DROP INDEX ticket_follows_up;
