-- An agent's picture (an https URL), shown to shoppers on sites that choose
-- "picture and name"; without one, shoppers see the agent's initials.
ALTER TABLE agents ADD COLUMN avatar_url TEXT;
