-- Up Migration

-- Where an SLA clock stands (domain/sla-clock.ts), written with every change of it: the service
-- time used before the current running stretch and when that stretch began (null while the
-- clock is paused or stopped). A ticket's workflow started again from the database (after an
-- operator terminated it, say) resumes the clock from these, pauses included.
ALTER TABLE ticket ADD COLUMN sla_used_ms bigint NOT NULL DEFAULT 0,
                   ADD COLUMN sla_running_since timestamptz;
ALTER TABLE ticket_step ADD COLUMN sla_used_ms bigint NOT NULL DEFAULT 0,
                        ADD COLUMN sla_running_since timestamptz;

-- Down Migration

ALTER TABLE ticket_step DROP COLUMN sla_used_ms, DROP COLUMN sla_running_since;
ALTER TABLE ticket DROP COLUMN sla_used_ms, DROP COLUMN sla_running_since;
