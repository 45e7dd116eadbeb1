-- When each visitor token was last used, so that a token idle for longer
-- than the server allows stops working (a shared or lost device).
ALTER TABLE visitors ADD COLUMN token_used_at BIGINT;
ALTER TABLE visitor_tokens ADD COLUMN last_used_at BIGINT;
