-- Up Migration

-- Business calendars (SPEC §3): weekly service hours and holidays are one document each,
-- validated by the API (schemas/calendars.ts). A default 24x7 calendar always exists.
CREATE TABLE calendar (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name          text NOT NULL UNIQUE,
  time_zone     text NOT NULL,
  weekly_hours  jsonb NOT NULL,
  holidays      jsonb NOT NULL DEFAULT '[]',
  is_default    boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX calendar_one_default ON calendar (is_default) WHERE is_default;
INSERT INTO calendar (name, time_zone, weekly_hours, is_default) VALUES (
  '24x7', 'UTC',
  '{"monday":[{"from":"00:00","to":"24:00"}],"tuesday":[{"from":"00:00","to":"24:00"}],"wednesday":[{"from":"00:00","to":"24:00"}],"thursday":[{"from":"00:00","to":"24:00"}],"friday":[{"from":"00:00","to":"24:00"}],"saturday":[{"from":"00:00","to":"24:00"}],"sunday":[{"from":"00:00","to":"24:00"}]}',
  true);

ALTER TABLE sector ADD COLUMN calendar_id bigint REFERENCES calendar(id);

-- Registration order (SPEC §3): a sequence, stable forever, never updated.
CREATE SEQUENCE user_registration_order;
ALTER TABLE app_user ADD COLUMN registration_order bigint;
UPDATE app_user SET registration_order = nextval('user_registration_order') FROM (SELECT id FROM app_user ORDER BY id) o WHERE o.id = app_user.id;
ALTER TABLE app_user ALTER COLUMN registration_order SET DEFAULT nextval('user_registration_order'),
                     ALTER COLUMN registration_order SET NOT NULL,
                     ADD CONSTRAINT app_user_registration_order_key UNIQUE (registration_order);

-- API keys: only a SHA-256 of the key is stored; the key itself is shown once.
CREATE TABLE api_key (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id       bigint NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
  name          text NOT NULL,
  prefix        text NOT NULL,
  hash          bytea NOT NULL UNIQUE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);
CREATE INDEX api_key_user ON api_key (user_id);

CREATE TABLE solution_group (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE solution_group_member (
  solution_group_id  bigint NOT NULL REFERENCES solution_group(id) ON DELETE CASCADE,
  user_id            bigint NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
  PRIMARY KEY (solution_group_id, user_id)
);

-- Alerts (SPEC §3): thresholds are percentages of the SLA; the webhook secret is encrypted.
CREATE TABLE alert (
  id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name                  text NOT NULL UNIQUE,
  thresholds            integer[] NOT NULL,
  notify_assignee       boolean NOT NULL DEFAULT true,
  notify_sector         boolean NOT NULL DEFAULT false,
  emails                text[] NOT NULL DEFAULT '{}',
  webhook_url           text,
  webhook_secret        text,
  created_at            timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE occurrence_type ADD COLUMN solution_group_id bigint REFERENCES solution_group(id),
                            ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE occurrence ADD COLUMN solution_group_id bigint REFERENCES solution_group(id),
                       ADD COLUMN alert_id bigint REFERENCES alert(id),
                       ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();

CREATE TABLE solution (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  occurrence_id  bigint NOT NULL REFERENCES occurrence(id),
  name           text NOT NULL,
  flow           text NOT NULL CHECK (flow IN ('main', 'alternative')),
  created_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (occurrence_id, name)
);
CREATE TABLE solution_step (
  solution_id  bigint NOT NULL REFERENCES solution(id) ON DELETE CASCADE,
  position     integer NOT NULL CHECK (position > 0),
  name         text NOT NULL,
  sector_id    bigint NOT NULL REFERENCES sector(id),
  sla_value    integer CHECK (sla_value > 0),
  sla_unit     text CHECK (sla_unit IN ('minutes', 'hours', 'days')),
  PRIMARY KEY (solution_id, position),
  CHECK ((sla_value IS NULL) = (sla_unit IS NULL))
);

ALTER TABLE customer_type ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE region ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();

-- Customers (SPEC §3, seed 002): phones, contact consent per channel, observers, contracts.
ALTER TABLE customer ADD COLUMN phone text,
                     ADD COLUMN phone2 text,
                     ADD COLUMN mobile text,
                     ADD COLUMN consent_email boolean NOT NULL DEFAULT false,
                     ADD COLUMN consent_sms boolean NOT NULL DEFAULT false,
                     ADD COLUMN consent_phone boolean NOT NULL DEFAULT false,
                     ADD COLUMN consent_whatsapp boolean NOT NULL DEFAULT false,
                     ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX customer_name ON customer (lower(name) text_pattern_ops);
CREATE TABLE customer_observer (
  customer_id  bigint NOT NULL REFERENCES customer(id) ON DELETE CASCADE,
  user_id      bigint NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
  PRIMARY KEY (customer_id, user_id)
);
CREATE TABLE contract (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id  bigint NOT NULL REFERENCES customer(id) ON DELETE CASCADE,
  name         text NOT NULL,
  number       text NOT NULL UNIQUE,
  starts_on    date NOT NULL,
  ends_on      date,
  active       boolean NOT NULL DEFAULT true,
  sla_value    integer CHECK (sla_value > 0),
  sla_unit     text CHECK (sla_unit IN ('minutes', 'hours', 'days')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  CHECK (ends_on IS NULL OR ends_on >= starts_on),
  CHECK ((sla_value IS NULL) = (sla_unit IS NULL))
);
CREATE INDEX contract_customer ON contract (customer_id);

-- Mailboxes: the rest of the conversion settings (SPEC §3). imap_secret now holds ciphertext.
ALTER TABLE mailbox ADD COLUMN solution_id bigint REFERENCES solution(id),
                    ADD COLUMN auto_distribute boolean NOT NULL DEFAULT false,
                    ADD COLUMN distribution_target text CHECK (distribution_target IN ('solution_group', 'sector')),
                    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- Saved ticket filters: personal, or shared with the members of a sector.
CREATE TABLE ticket_filter (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  owner_user_id  bigint NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
  name           text NOT NULL,
  sector_id      bigint REFERENCES sector(id) ON DELETE CASCADE,
  filters        jsonb NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (owner_user_id, name)
);

-- The ticket list's filters (SPEC §8), each with newest-first order for keyset pagination.
CREATE INDEX ticket_by_status ON ticket (status, id DESC);
CREATE INDEX ticket_by_assignee ON ticket (assignee_user_id, id DESC);
CREATE INDEX ticket_by_occurrence ON ticket (occurrence_id, id DESC);
CREATE INDEX ticket_by_sector ON ticket (sector_id, id DESC);
CREATE INDEX ticket_by_mailbox ON ticket (mailbox_id, id DESC);
DROP INDEX ticket_status;

-- Down Migration

CREATE INDEX ticket_status ON ticket (status);
DROP INDEX ticket_by_mailbox;
DROP INDEX ticket_by_sector;
DROP INDEX ticket_by_occurrence;
DROP INDEX ticket_by_assignee;
DROP INDEX ticket_by_status;
DROP TABLE ticket_filter;
ALTER TABLE mailbox DROP COLUMN solution_id, DROP COLUMN auto_distribute, DROP COLUMN distribution_target, DROP COLUMN updated_at;
DROP TABLE contract;
DROP TABLE customer_observer;
DROP INDEX customer_name;
ALTER TABLE customer DROP COLUMN phone, DROP COLUMN phone2, DROP COLUMN mobile, DROP COLUMN consent_email, DROP COLUMN consent_sms,
                     DROP COLUMN consent_phone, DROP COLUMN consent_whatsapp, DROP COLUMN updated_at;
ALTER TABLE region DROP COLUMN created_at;
ALTER TABLE customer_type DROP COLUMN created_at;
DROP TABLE solution_step;
DROP TABLE solution;
ALTER TABLE occurrence DROP COLUMN solution_group_id, DROP COLUMN alert_id, DROP COLUMN created_at;
ALTER TABLE occurrence_type DROP COLUMN solution_group_id, DROP COLUMN created_at;
DROP TABLE alert;
DROP TABLE solution_group_member;
DROP TABLE solution_group;
DROP TABLE api_key;
ALTER TABLE app_user DROP COLUMN registration_order;
DROP SEQUENCE user_registration_order;
ALTER TABLE sector DROP COLUMN calendar_id;
DROP TABLE calendar;
