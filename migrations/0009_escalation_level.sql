-- The escalation level (督办) of the deadline an assignment is running now, kept on the row so
-- that every reader (the feed, the desk console, the API) has it without knowing the watcher's
-- stages: while dispatched, the higher of the acknowledge and resolve deadlines' levels; once
-- acknowledged, the resolve deadline's. Stages are 0 nothing sent, 1 reminder sent, L + 1
-- escalated at level L (see the deadlines migration); a reopened assignment's stages start at
-- 0 again, and so does this level.
ALTER TABLE assignments
    ADD COLUMN escalation_level smallint GENERATED ALWAYS AS (
        greatest(
            CASE WHEN state = 'dispatched' THEN greatest(ack_stage, resolve_stage) ELSE resolve_stage END - 1,
            0
        )
    ) STORED;
