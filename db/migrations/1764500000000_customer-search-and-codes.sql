-- Up Migration

-- Customer search (GET /customers?q=): a case-insensitive substring of the name, the e-mail
-- or the code ("silva" finds "Maria da Silva", "@acme.com.br" a whole company). One trigram
-- index over the three, joined by a control character no one searches for, serves
-- ILIKE '%...%' on 100k+ customers (three indexes ORed made the planner prefer a sequential
-- scan at 100k rows, and cost twice as much to maintain on a bulk import). pg_trgm is a
-- trusted extension (PG 13+), so the database owner may create it. The column is added
-- after the code is made NOT NULL (below) so that it is never null.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The list's filters in keyset order, and the foreign-key checks when a region, a customer
-- type or a user is deleted.
CREATE INDEX customer_region ON customer (region_id, id);
CREATE INDEX customer_customer_type ON customer (customer_type_id, id);
CREATE INDEX customer_observer_user ON customer_observer (user_id);

-- The code is required (SPEC §3). When an insert gives none, it is generated from the id:
-- `C` + the id zero-padded to 6 digits, exactly domain/customer-naming.ts generatedCustomerCode
-- (test/api/customers-api.test.ts checks they agree). One rule for the API, the CSV import,
-- the e-mail path and any direct insert.
CREATE FUNCTION customer_generated_code() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.code IS NULL THEN
    NEW.code := 'C' || lpad(NEW.id::text, greatest(6, length(NEW.id::text)), '0');
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER customer_generated_code BEFORE INSERT ON customer FOR EACH ROW EXECUTE FUNCTION customer_generated_code();
UPDATE customer SET code = 'C' || lpad(id::text, greatest(6, length(id::text)), '0') WHERE code IS NULL;
ALTER TABLE customer ALTER COLUMN code SET NOT NULL;

ALTER TABLE customer ADD COLUMN search_text text GENERATED ALWAYS AS (name || E'\x01' || coalesce(email, '') || E'\x01' || code) STORED;
CREATE INDEX customer_search ON customer USING gin (search_text gin_trgm_ops);

-- Down Migration

DROP INDEX customer_search;
ALTER TABLE customer DROP COLUMN search_text;
ALTER TABLE customer ALTER COLUMN code DROP NOT NULL;
DROP TRIGGER customer_generated_code ON customer;
DROP FUNCTION customer_generated_code();
DROP INDEX customer_observer_user;
DROP INDEX customer_customer_type;
DROP INDEX customer_region;
DROP EXTENSION IF EXISTS pg_trgm;
