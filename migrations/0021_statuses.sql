-- An open conversation set aside by its agent: 'pending' (waiting on the
-- customer) or 'snoozed' (until `snoozed_until`, or until the customer
-- writes when that is NULL). NULL: open. A set-aside conversation keeps
-- its agent but holds none of their seats; a closed one holds no hold.
ALTER TABLE conversations ADD COLUMN hold TEXT CHECK (hold IN ('pending', 'snoozed'));
ALTER TABLE conversations ADD COLUMN snoozed_until BIGINT;
-- The conversation this one follows: its customer wrote again after it
-- had been closed for longer than the site's reopen window.
ALTER TABLE conversations ADD COLUMN previous_id TEXT REFERENCES conversations(id) ON DELETE SET NULL;
-- When it was last opened again after a close.
ALTER TABLE conversations ADD COLUMN reopened_at BIGINT;

-- Snoozes that end by the clock, soonest first.
CREATE INDEX conversations_snoozed_until ON conversations(snoozed_until)
    WHERE hold = 'snoozed' AND snoozed_until IS NOT NULL;
-- A customer's most recent close, for reopening.
CREATE INDEX conversations_visitor_closed ON conversations(visitor_id, closed_at)
    WHERE state = 'closed';
