-- Each anonymous shopper gets a number in their site ("Visitor 1042"):
-- distinct and stable, so agents can tell three shoppers on the same page
-- apart. `sites.visitors_numbered` is the last number given.
ALTER TABLE visitors ADD COLUMN number BIGINT;
ALTER TABLE sites ADD COLUMN visitors_numbered BIGINT NOT NULL DEFAULT 0;
UPDATE visitors SET number = ranked.n
FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY site_id ORDER BY created_at, id) AS n FROM visitors) AS ranked
WHERE visitors.id = ranked.id;
UPDATE sites SET visitors_numbered = (SELECT COALESCE(MAX(v.number), 0) FROM visitors v WHERE v.site_id = sites.id);
