-- Up Migration

-- Switching a ticket to the alternative flow starts "the occurrence's alternative solution"
-- (SPEC §7): an occurrence has any number of main solutions and at most one alternative.
CREATE UNIQUE INDEX solution_one_alternative ON solution (occurrence_id) WHERE flow = 'alternative';

-- Down Migration

DROP INDEX solution_one_alternative;
