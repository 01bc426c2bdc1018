-- 006_article_counts.sql - the article list's total without counting every
-- article on every request.
--
-- article_counts holds the number of non-draft articles, overall (category_id
-- 0) and per category, kept exact by a trigger. The public total is that
-- number minus the non-draft articles whose time has not come yet (scheduled
-- for the future: few, found by a range scan of articles_public_idx).

CREATE TABLE article_counts (
	category_id  bigint PRIMARY KEY,  -- 0: all articles
	n            bigint NOT NULL CONSTRAINT article_counts_n_positive CHECK (n >= 0)
);

INSERT INTO article_counts (category_id, n)
SELECT 0, count(*) FROM articles WHERE status <> 'draft';
INSERT INTO article_counts (category_id, n)
SELECT category_id, count(*) FROM articles
WHERE status <> 'draft' AND category_id IS NOT NULL
GROUP BY category_id;

CREATE FUNCTION article_counts_add(cat bigint, d integer) RETURNS void
LANGUAGE sql AS $$
	INSERT INTO article_counts AS c (category_id, n) VALUES (cat, GREATEST(d, 0))
	ON CONFLICT (category_id) DO UPDATE SET n = c.n + d;
$$;

CREATE FUNCTION article_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP <> 'INSERT' AND OLD.status <> 'draft' THEN
		PERFORM article_counts_add(0, -1);
		IF OLD.category_id IS NOT NULL THEN
			PERFORM article_counts_add(OLD.category_id, -1);
		END IF;
	END IF;
	IF TG_OP <> 'DELETE' AND NEW.status <> 'draft' THEN
		PERFORM article_counts_add(0, 1);
		IF NEW.category_id IS NOT NULL THEN
			PERFORM article_counts_add(NEW.category_id, 1);
		END IF;
	END IF;
	RETURN NULL;
END;
$$;

CREATE TRIGGER article_counts_track
	AFTER INSERT OR DELETE OR UPDATE OF status, category_id ON articles
	FOR EACH ROW EXECUTE FUNCTION article_counts_track();
