-- The agent who last let a waiting conversation go (handed it to a team,
-- or did not answer in time): it is not offered back to them until someone
-- else takes it. Stored with the change that set it, so no process can
-- offer it back in between.
ALTER TABLE conversations ADD COLUMN passed_over_by TEXT;
