-- 009_tag_counts.sql - the tag cloud without joining every tagged article on
-- every page view.
--
-- tag_counts holds, per tag, the number of non-draft articles carrying it,
-- kept exact by triggers on article_tags (a tag put on or taken off) and on
-- articles (a status change between draft and not, a delete). As with
-- article_counts (006), the public count is that number minus the articles
-- scheduled for the future, which are few.

CREATE TABLE tag_counts (
	tag_id  bigint PRIMARY KEY REFERENCES tags (id) ON DELETE CASCADE,
	n       bigint NOT NULL CONSTRAINT tag_counts_n_positive CHECK (n >= 0)
);

INSERT INTO tag_counts (tag_id, n)
SELECT x.tag_id, count(*)
FROM article_tags x JOIN articles a ON a.id = x.article_id
WHERE a.status <> 'draft'
GROUP BY x.tag_id;

CREATE FUNCTION tag_counts_add(tag bigint, d integer) RETURNS void
LANGUAGE sql AS $$
	INSERT INTO tag_counts AS c (tag_id, n)
	SELECT tag, GREATEST(d, 0) WHERE EXISTS (SELECT 1 FROM tags WHERE id = tag)
	ON CONFLICT (tag_id) DO UPDATE SET n = c.n + d;
$$;

-- A tag put on or taken off an article that is not a draft. While an
-- article is being deleted its row is already gone when the cascade removes
-- its tags: articles' own trigger has counted those (below).
CREATE FUNCTION tag_counts_link() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP <> 'INSERT' AND EXISTS (SELECT 1 FROM articles
	                                 WHERE id = OLD.article_id AND status <> 'draft') THEN
		PERFORM tag_counts_add(OLD.tag_id, -1);
	END IF;
	IF TG_OP <> 'DELETE' AND EXISTS (SELECT 1 FROM articles
	                                 WHERE id = NEW.article_id AND status <> 'draft') THEN
		PERFORM tag_counts_add(NEW.tag_id, 1);
	END IF;
	RETURN NULL;
END;
$$;

CREATE TRIGGER tag_counts_link
	AFTER INSERT OR DELETE OR UPDATE OF article_id, tag_id ON article_tags
	FOR EACH ROW EXECUTE FUNCTION tag_counts_link();

-- An article leaving or joining the non-drafts (a status change, or a
-- delete) moves every tag it carries. OLD lets a BEFORE DELETE go on.
CREATE FUNCTION tag_counts_article() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	was boolean := OLD.status <> 'draft';
	counted boolean := TG_OP = 'UPDATE' AND NEW.status <> 'draft';
BEGIN
	IF was <> counted THEN
		PERFORM tag_counts_add(x.tag_id, CASE WHEN counted THEN 1 ELSE -1 END)
		FROM article_tags x WHERE x.article_id = OLD.id;
	END IF;
	RETURN OLD;
END;
$$;

-- BEFORE DELETE: the article's tags are still there to be counted off.
CREATE TRIGGER tag_counts_article_delete
	BEFORE DELETE ON articles
	FOR EACH ROW EXECUTE FUNCTION tag_counts_article();
CREATE TRIGGER tag_counts_article_status
	AFTER UPDATE OF status ON articles
	FOR EACH ROW EXECUTE FUNCTION tag_counts_article();
