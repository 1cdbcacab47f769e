-- Up Migration

-- What a support team sets per mailbox (SPEC §4, issue "Inbound mail, complete"):
--  - acknowledgement: one e-mail per new ticket to its customer (templates: null = the default);
--  - sender_ticket_limit: at most this many new tickets per sender per hour, the rest appended to
--    the sender's last ticket (a mail loop stays one ticket); 0 = no limit;
--  - after_processing: what happens to the message on the server once its outcome is committed;
--  - max_message_bytes: above it the e-mail is quarantined with the reason (raw kept);
--  - push_secret: authenticates POST /inbound/:mailbox (sealed like imap_secret);
--  - imap_auth: a password, or OAuth 2.0 with a refresh token (Microsoft 365, Gmail), its
--    client secret and refresh token sealed.
ALTER TABLE mailbox
  ADD COLUMN acknowledge              boolean NOT NULL DEFAULT false,
  ADD COLUMN acknowledgement_subject  text,
  ADD COLUMN acknowledgement_body     text,
  ADD COLUMN sender_ticket_limit      integer NOT NULL DEFAULT 20 CHECK (sender_ticket_limit >= 0),
  ADD COLUMN after_processing         text NOT NULL DEFAULT 'leave' CHECK (after_processing IN ('leave', 'seen', 'move')),
  ADD COLUMN after_processing_folder  text,
  ADD COLUMN max_message_bytes        integer NOT NULL DEFAULT 26214400 CHECK (max_message_bytes > 0),
  ADD COLUMN push_secret              text,
  ADD COLUMN imap_auth                text NOT NULL DEFAULT 'password' CHECK (imap_auth IN ('password', 'oauth2')),
  ADD COLUMN oauth_token_url          text,
  ADD COLUMN oauth_client_id          text,
  ADD COLUMN oauth_client_secret      text,
  ADD COLUMN oauth_refresh_token      text,
  ADD COLUMN oauth_scope              text,
  ALTER COLUMN imap_secret DROP NOT NULL,
  ADD CONSTRAINT mailbox_move_folder CHECK (after_processing <> 'move' OR after_processing_folder IS NOT NULL),
  ADD CONSTRAINT mailbox_auth CHECK (
    (imap_auth = 'password' AND imap_secret IS NOT NULL)
    OR (imap_auth = 'oauth2' AND oauth_token_url IS NOT NULL AND oauth_client_id IS NOT NULL AND oauth_refresh_token IS NOT NULL)
  );

-- Down Migration

ALTER TABLE mailbox
  DROP CONSTRAINT mailbox_auth,
  DROP CONSTRAINT mailbox_move_folder,
  DROP COLUMN acknowledge, DROP COLUMN acknowledgement_subject, DROP COLUMN acknowledgement_body,
  DROP COLUMN sender_ticket_limit, DROP COLUMN after_processing, DROP COLUMN after_processing_folder,
  DROP COLUMN max_message_bytes, DROP COLUMN push_secret, DROP COLUMN imap_auth,
  DROP COLUMN oauth_token_url, DROP COLUMN oauth_client_id, DROP COLUMN oauth_client_secret,
  DROP COLUMN oauth_refresh_token, DROP COLUMN oauth_scope;
ALTER TABLE mailbox ALTER COLUMN imap_secret SET NOT NULL;
