-- Up Migration

CREATE TABLE sector (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- id is the registration order (SPEC §3): an identity, never a timestamp that can tie.
CREATE TABLE app_user (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  login       text NOT NULL UNIQUE,
  name        text NOT NULL,
  email       text,
  role        text NOT NULL CHECK (role IN ('admin', 'backoffice', 'agent')),
  active      boolean NOT NULL DEFAULT true,
  available   boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE user_sector (
  user_id    bigint NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
  sector_id  bigint NOT NULL REFERENCES sector(id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, sector_id)
);

CREATE TABLE customer_type (
  id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name  text NOT NULL UNIQUE
);

CREATE TABLE region (
  id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name  text NOT NULL UNIQUE
);

CREATE TABLE occurrence_type (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name         text NOT NULL,
  sector_id    bigint REFERENCES sector(id),
  description  text,
  anonymous                   boolean NOT NULL DEFAULT false,
  confidential                boolean NOT NULL DEFAULT false,
  dynamic_sector_from_creator boolean NOT NULL DEFAULT false,
  UNIQUE NULLS NOT DISTINCT (name, sector_id)
);

CREATE TABLE occurrence (
  id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  occurrence_type_id  bigint NOT NULL REFERENCES occurrence_type(id),
  name                text NOT NULL,
  sla_value           integer NOT NULL CHECK (sla_value > 0),
  sla_unit            text NOT NULL CHECK (sla_unit IN ('minutes', 'hours', 'days')),
  sector_id           bigint REFERENCES sector(id),
  observation         text,
  UNIQUE (occurrence_type_id, name)
);

CREATE TABLE mailbox (
  id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name                text NOT NULL UNIQUE,
  imap_host           text NOT NULL,
  imap_port           integer NOT NULL,
  imap_tls            boolean NOT NULL DEFAULT true,
  imap_user           text NOT NULL,
  imap_secret         text NOT NULL,
  imap_folder         text NOT NULL DEFAULT 'INBOX',
  sector_id           bigint REFERENCES sector(id),
  auto_convert        boolean NOT NULL DEFAULT false,
  customer_type_id    bigint REFERENCES customer_type(id),
  region_id           bigint REFERENCES region(id),
  creator_user_id     bigint REFERENCES app_user(id),
  occurrence_type_id  bigint REFERENCES occurrence_type(id),
  occurrence_id       bigint REFERENCES occurrence(id),
  active              boolean NOT NULL DEFAULT true,
  created_at          timestamptz NOT NULL DEFAULT now(),
  CHECK (NOT auto_convert OR (creator_user_id IS NOT NULL AND occurrence_type_id IS NOT NULL AND occurrence_id IS NOT NULL))
);

-- Where reading stopped: UIDVALIDITY + last UID handed to an e-mail workflow (never \Seen).
CREATE TABLE mailbox_cursor (
  mailbox_id    bigint PRIMARY KEY REFERENCES mailbox(id) ON DELETE CASCADE,
  uid_validity  bigint NOT NULL,
  last_uid      bigint NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- email_key: the address's comparison key (domain/email-address.ts addressKey), so that two
-- e-mails from the same new sender at once create one customer.
CREATE TABLE customer (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  code              text UNIQUE,
  name              text NOT NULL,
  email             text,
  email_key         text UNIQUE,
  region_id         bigint REFERENCES region(id),
  customer_type_id  bigint REFERENCES customer_type(id),
  created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE inbound_email (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  mailbox_id      bigint NOT NULL REFERENCES mailbox(id),
  uid_validity    bigint NOT NULL,
  uid             bigint NOT NULL,
  message_id      text,
  size            integer NOT NULL,
  raw             bytea NOT NULL,
  received_at     timestamptz NOT NULL DEFAULT now(),
  subject         text,
  from_address    text,
  from_name       text,
  to_addresses    text[],
  sent_at         timestamptz,
  text_body       text,
  parsed_at       timestamptz,
  outcome         text CHECK (outcome IN ('ticket_created', 'appended_to_ticket', 'pre_ticket', 'ignored', 'quarantined')),
  outcome_reason  text,
  outcome_at      timestamptz,
  UNIQUE (mailbox_id, uid_validity, uid)
);
CREATE INDEX inbound_email_message_id ON inbound_email (mailbox_id, message_id);
CREATE INDEX inbound_email_outcome ON inbound_email (outcome, id);

CREATE TABLE email_attachment (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email_id      bigint NOT NULL REFERENCES inbound_email(id) ON DELETE CASCADE,
  position      integer NOT NULL,
  filename      text,
  content_type  text NOT NULL,
  size          integer NOT NULL,
  sha256        text NOT NULL,
  content_id    text,
  inline        boolean NOT NULL DEFAULT false,
  content       bytea NOT NULL,
  UNIQUE (email_id, position)
);

CREATE SEQUENCE protocol_sequence;

CREATE TABLE ticket (
  id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  protocol            text NOT NULL UNIQUE,
  status              text NOT NULL DEFAULT 'open'
                      CHECK (status IN ('open', 'waiting_customer', 'resolved', 'closed', 'cancelled')),
  subject             text NOT NULL,
  description         text NOT NULL,
  customer_id         bigint NOT NULL REFERENCES customer(id),
  channel             text NOT NULL CHECK (channel IN ('email', 'api')),
  mailbox_id          bigint REFERENCES mailbox(id),
  source_email_id     bigint UNIQUE REFERENCES inbound_email(id),
  creator_user_id     bigint REFERENCES app_user(id),
  occurrence_type_id  bigint REFERENCES occurrence_type(id),
  occurrence_id       bigint REFERENCES occurrence(id),
  sector_id           bigint REFERENCES sector(id),
  assignee_user_id    bigint REFERENCES app_user(id),
  sla_due_at          timestamptz,
  sla_state           text NOT NULL DEFAULT 'on_time' CHECK (sla_state IN ('on_time', 'at_risk', 'breached')),
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ticket_list ON ticket (created_at DESC, id DESC);
CREATE INDEX ticket_status ON ticket (status);
CREATE INDEX ticket_customer ON ticket (customer_id);

CREATE TABLE ticket_event (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ticket_id   bigint NOT NULL REFERENCES ticket(id) ON DELETE CASCADE,
  kind        text NOT NULL,
  actor       text NOT NULL,
  at          timestamptz NOT NULL DEFAULT now(),
  data        jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX ticket_event_ticket ON ticket_event (ticket_id, id);

-- Down Migration

DROP TABLE ticket_event;
DROP TABLE ticket;
DROP SEQUENCE protocol_sequence;
DROP TABLE email_attachment;
DROP TABLE inbound_email;
DROP TABLE customer;
DROP TABLE mailbox_cursor;
DROP TABLE mailbox;
DROP TABLE occurrence;
DROP TABLE occurrence_type;
DROP TABLE region;
DROP TABLE customer_type;
DROP TABLE user_sector;
DROP TABLE app_user;
DROP TABLE sector;
