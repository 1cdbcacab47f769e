-- Up Migration

-- A login is unique whatever its case (`JSilva` and `jsilva` are one person): users type
-- logins by hand, and two accounts told apart only by case invite mistakes. The plain
-- UNIQUE (login) stays: ensureAdminKey's ON CONFLICT (login) names it.
CREATE UNIQUE INDEX app_user_login_any_case ON app_user (lower(login));

-- Down Migration

DROP INDEX app_user_login_any_case;
