-- Ticket search finds an address through the distinct addresses, not through every ticket.
--
-- A trigram index over `tickets.address` answers `address LIKE '%…%'` by reading the posting
-- lists of the string's trigrams, and in a province's history every trigram of an address but
-- its number is on hundreds of thousands of tickets (a county's name, a road's): about 60 ms of
-- CPU for one search of an address 1,200 tickets have, at 10,000,000 tickets, so twenty
-- searches a second took more than two cores (docs/benchmarks.md, "A search for an address").
-- The same history holds a few thousand to a few million distinct addresses. They are kept
-- here, with their own trigram index; a search matches them, then takes each matching
-- address's tickets newest first from a B-tree on (address, id).
--
-- The table holds every address a ticket has (but the empty one), and may hold addresses no ticket has any more
-- (after `dispatch purge` rewrote one, or `dispatch archive delete` removed its tickets) until
-- `ticket_addresses_prune()` removes them; both commands call it when they finish.
CREATE TABLE ticket_addresses (
    address text PRIMARY KEY
);
CREATE INDEX ticket_addresses_trgm ON ticket_addresses USING gin (address gin_trgm_ops);

INSERT INTO ticket_addresses (address)
SELECT DISTINCT address FROM tickets WHERE address <> '';

CREATE INDEX tickets_by_address ON tickets (address, id);
DROP INDEX tickets_address_trgm;

-- Every path that writes a ticket (the API, imports, merges, restores, hand-written SQL) keeps
-- the table. The conflicting row is locked (DO UPDATE … WHERE false takes the lock and changes
-- nothing) until the ticket's transaction ends, so a prune running beside it cannot remove the
-- address of a ticket it does not see yet.
CREATE FUNCTION ticket_addresses_add(addresses text[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO ticket_addresses AS a (address)
    SELECT DISTINCT x FROM unnest(addresses) AS x WHERE x <> ''
    ORDER BY 1
    ON CONFLICT (address) DO UPDATE SET address = excluded.address WHERE false;
$$;

CREATE FUNCTION ticket_addresses_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ticket_addresses_add(ARRAY(SELECT address FROM new_rows));
    RETURN NULL;
END;
$$;

CREATE FUNCTION ticket_addresses_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ticket_addresses_add(ARRAY[NEW.address]);
    RETURN NULL;
END;
$$;

CREATE TRIGGER ticket_addresses_insert AFTER INSERT ON tickets
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ticket_addresses_after_insert();
CREATE TRIGGER ticket_addresses_update AFTER UPDATE OF address ON tickets
    FOR EACH ROW WHEN (NEW.address <> '' AND OLD.address IS DISTINCT FROM NEW.address)
    EXECUTE FUNCTION ticket_addresses_after_update();

-- Remove the addresses no ticket has; returns how many. The candidates are locked first (a
-- ticket being written with one holds its lock until it commits), and checked again by a
-- statement that starts after the locks are taken, so it sees those tickets.
CREATE FUNCTION ticket_addresses_prune() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    candidates text[];
    removed bigint;
BEGIN
    candidates := ARRAY(
        SELECT a.address FROM ticket_addresses a
        WHERE NOT EXISTS (SELECT 1 FROM tickets t WHERE t.address = a.address)
        ORDER BY a.address
        FOR UPDATE OF a
    );
    DELETE FROM ticket_addresses a
    WHERE a.address = ANY(candidates)
      AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.address = a.address);
    GET DIAGNOSTICS removed = ROW_COUNT;
    RETURN removed;
END;
$$;
