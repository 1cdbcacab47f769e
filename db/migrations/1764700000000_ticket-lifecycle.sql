-- Up Migration

-- The ticket's lifecycle (SPEC §6, §7, §8): its workflow `ticket:<protocol>` owns status, SLA
-- and steps; these tables are what it writes, each write idempotent by a key it chooses.

-- An event written by the ticket's workflow carries the workflow's key for it (`a17`), so a
-- retried activity adds it once.
ALTER TABLE ticket_event ADD COLUMN key text;
CREATE UNIQUE INDEX ticket_event_key ON ticket_event (ticket_id, key) WHERE key IS NOT NULL;

-- The solution the ticket runs (the mailbox's, SPEC §4.7) and when the SLA clock stopped or paused.
ALTER TABLE ticket ADD COLUMN solution_id bigint REFERENCES solution(id),
                   ADD COLUMN sla_paused_at timestamptz,
                   ADD COLUMN resolved_at timestamptz,
                   ADD COLUMN closed_at timestamptz;

-- The step instances of a ticket (SPEC §7), in the order they run: the main flow's steps, then
-- (after a switch) the alternative flow's. `position` orders them within the ticket.
CREATE TABLE ticket_step (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ticket_id          bigint NOT NULL REFERENCES ticket(id) ON DELETE CASCADE,
  position           integer NOT NULL CHECK (position > 0),
  solution_id        bigint REFERENCES solution(id) ON DELETE SET NULL,
  flow               text NOT NULL CHECK (flow IN ('main', 'alternative')),
  name               text NOT NULL,
  sector_id          bigint NOT NULL REFERENCES sector(id),
  sla_value          integer CHECK (sla_value > 0),
  sla_unit           text CHECK (sla_unit IN ('minutes', 'hours', 'days')),
  status             text NOT NULL CHECK (status IN ('pending', 'active', 'completed', 'cancelled')),
  sla_due_at         timestamptz,
  sla_state          text NOT NULL DEFAULT 'on_time' CHECK (sla_state IN ('on_time', 'at_risk', 'breached')),
  activated_at       timestamptz,
  finished_at        timestamptz,
  finished_by        text,
  note               text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (ticket_id, position),
  CHECK ((sla_value IS NULL) = (sla_unit IS NULL))
);
-- BackOffice's queue: the active steps of a sector, oldest first.
CREATE INDEX ticket_step_active ON ticket_step (sector_id, activated_at, id) WHERE status = 'active';

-- Every alert that fired (SPEC §6): once per ticket and key (`sla:50`, `step:12:100`,
-- `pool_empty:a3`), with its due and fired instants and who it went to.
CREATE TABLE alert_firing (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ticket_id    bigint NOT NULL REFERENCES ticket(id) ON DELETE CASCADE,
  step_id      bigint REFERENCES ticket_step(id) ON DELETE CASCADE,
  alert_id     bigint REFERENCES alert(id) ON DELETE SET NULL,
  key          text NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('sla', 'step_sla', 'pool_empty')),
  threshold    integer,
  due_at       timestamptz NOT NULL,
  fired_at     timestamptz NOT NULL DEFAULT now(),
  recipients   text[] NOT NULL DEFAULT '{}',
  UNIQUE (ticket_id, key)
);
CREATE INDEX alert_firing_alert ON alert_firing (alert_id);

-- One delivery per channel of a firing: the target and (for webhooks) the sealed secret are
-- copied when it fires, so a later change of the alert does not change what was sent.
CREATE TABLE alert_delivery (
  firing_id     bigint NOT NULL REFERENCES alert_firing(id) ON DELETE CASCADE,
  channel       text NOT NULL CHECK (channel IN ('email', 'webhook')),
  target        text NOT NULL,
  secret        text,
  status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts      integer NOT NULL DEFAULT 0,
  last_error    text,
  delivered_at  timestamptz,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (firing_id, channel)
);

-- Down Migration

DROP TABLE alert_delivery;
DROP TABLE alert_firing;
DROP TABLE ticket_step;
ALTER TABLE ticket DROP COLUMN solution_id, DROP COLUMN sla_paused_at, DROP COLUMN resolved_at, DROP COLUMN closed_at;
DROP INDEX ticket_event_key;
ALTER TABLE ticket_event DROP COLUMN key;
