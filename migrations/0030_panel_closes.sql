-- How a shopper left the line: every widget of theirs closed ('left'), or
-- they closed the chat panel while waiting, the page still open
-- ('closed_panel', kept once per conversation).
ALTER TABLE queue_exits ADD COLUMN how TEXT NOT NULL DEFAULT 'left'
    CHECK (how IN ('left', 'closed_panel'));
