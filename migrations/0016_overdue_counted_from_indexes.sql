-- The supervisor summary counts the work overdue now per agency (and its tickets) from the two
-- deadline indexes of 0012. They held only the deadline and the id, so every overdue assignment
-- was read from the heap, where years of history scatter it: at 10,000,000 tickets with 45,000
-- overdue assignments, 41,000 heap pages, 8 s with a cold cache (docs/benchmarks.md, "The
-- summary's first computation"). With the columns the count needs carried in the index, it is
-- answered from the index alone (pages all-visible, as old open work's are once vacuumed).
-- Same keys and predicates, so the overdue list keeps walking them in order.
CREATE INDEX assignments_late_ack_covering ON assignments (ack_due, id)
    INCLUDE (agency, ticket_id, resolve_due) WHERE state = 'dispatched';
CREATE INDEX assignments_late_resolve_covering ON assignments (resolve_due, id)
    INCLUDE (agency, ticket_id, state, ack_due) WHERE state IN ('dispatched', 'acknowledged', 'in_progress');
DROP INDEX assignments_late_ack;
DROP INDEX assignments_late_resolve;
ALTER INDEX assignments_late_ack_covering RENAME TO assignments_late_ack;
ALTER INDEX assignments_late_resolve_covering RENAME TO assignments_late_resolve;
