-- 005_public_indexes.sql - indexes for the public reading API (public.c).
--
-- Related articles: the candidates sharing a keyword term with an article
-- (terms && $terms) come from this index instead of a scan of every article.
CREATE INDEX articles_terms_idx ON articles USING gin (terms)
	WHERE status <> 'draft';
