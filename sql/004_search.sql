-- 004_search.sql - full-text search over articles, English and Chinese.
--
-- PostgreSQL's 'simple' configuration indexes words as they are; Chinese has
-- no spaces, so the text is first turned into "index text": ASCII letters
-- lower-cased, runs of [a-z0-9] kept as words, runs of Han characters turned
-- into overlapping character bigrams (one character alone stays a term), and
-- everything else a separator. functions/articles/search.c builds queries
-- with the very same rules (search_tsquery), so a bigram of the query is a
-- bigram of the text.
--
-- The vector is kept by a trigger on title, summary and body_md (weights A,
-- B, C), so rows written by psql or the seed are indexed too, and a view
-- count update does not recompute it. The body is indexed up to its first
-- 60,000 characters (a tsvector is limited to 1 MB).

-- Han: CJK Unified Ideographs, Extension A, Compatibility Ideographs, and
-- the supplementary planes' Extensions B-F and Compatibility Supplement.
-- The work is done by regular expressions over the whole text (lower() in
-- the "C" collation maps A-Z only, whatever the database's locale) and one
-- row per script run,
-- not per word; a Han run's bigrams come from lead() over its characters,
-- linear in its length.
CREATE FUNCTION search_index_text(t text) RETURNS text
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
	SELECT coalesce(string_agg(
		CASE WHEN s.m[1] !~ '^[^ a-z0-9]{2}' THEN btrim(s.m[1])
		     ELSE (SELECT string_agg(x.c || x.nx, ' ' ORDER BY x.k)
		           FROM (SELECT u.c, u.k, lead(u.c) OVER (ORDER BY u.k) AS nx
		                 FROM unnest(string_to_array(s.m[1], NULL))
		                      WITH ORDINALITY AS u (c, k)) AS x
		           WHERE x.nx IS NOT NULL)
		END, ' ' ORDER BY s.n), '')
	FROM regexp_matches(
		lower(regexp_replace(t,
			'[^A-Za-z0-9\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]+',
			' ', 'g') COLLATE "C"),
		-- runs of ASCII words (with the spaces between them), or of Han
		'[a-z0-9 ]*[a-z0-9][a-z0-9 ]*|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]+',
		'g') WITH ORDINALITY AS s (m, n)
$$;

CREATE FUNCTION articles_search_vector(title text, summary text, body text) RETURNS tsvector
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT setweight(to_tsvector('simple', search_index_text(coalesce(title, ''))), 'A')
	    || setweight(to_tsvector('simple', search_index_text(left(coalesce(summary, ''), 10000))), 'B')
	    || setweight(to_tsvector('simple', search_index_text(left(coalesce(body, ''), 60000))), 'C')
$$;

ALTER TABLE articles ADD COLUMN search tsvector NOT NULL DEFAULT ''::tsvector;

CREATE FUNCTION articles_search_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	NEW.search := articles_search_vector(NEW.title, NEW.summary, NEW.body_md);
	RETURN NEW;
END;
$$;

CREATE TRIGGER articles_search
	BEFORE INSERT OR UPDATE OF title, summary, body_md ON articles
	FOR EACH ROW EXECUTE FUNCTION articles_search_update();

-- Rows from before this migration.
UPDATE articles SET search = articles_search_vector(title, summary, body_md);

-- The search list: GIN over the vector (public-visibility is checked per row).
CREATE INDEX articles_search_idx ON articles USING gin (search);
