-- Language as a skill: the languages an agent speaks (lower-case primary
-- subtags, comma-separated, e.g. "en,nl") and the shopper's browser language.
ALTER TABLE agents ADD COLUMN languages TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN language TEXT;
