-- 001_init.sql - articles, the heart of the blog CMS.
--
-- Later migrations add categories, tags, comments and admin users around
-- this table; its shape is meant to last. Times are timestamptz (UTC on the
-- wire). updated_at is set by the statements that edit an article (not by a
-- trigger, so bumping view_count does not count as an edit).

CREATE TABLE articles (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	title        text NOT NULL
	             CONSTRAINT articles_title_length CHECK (char_length(title) BETWEEN 1 AND 200),
	-- URL-safe and lower-case: /articles/<slug> needs no escaping.
	slug         text NOT NULL
	             CONSTRAINT articles_slug_key UNIQUE
	             CONSTRAINT articles_slug_format
	             CHECK (char_length(slug) <= 200 AND slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
	body_md      text NOT NULL DEFAULT '',
	body_html    text NOT NULL DEFAULT '',
	summary      text NOT NULL DEFAULT '',
	cover_url    text,
	status       text NOT NULL DEFAULT 'draft'
	             CONSTRAINT articles_status_valid
	             CHECK (status IN ('draft', 'published', 'scheduled')),
	-- For 'scheduled', the time it goes public; readers see an article once
	-- it is published or scheduled and published_at <= now().
	published_at timestamptz,
	created_at   timestamptz NOT NULL DEFAULT now(),
	updated_at   timestamptz NOT NULL DEFAULT now(),
	view_count   bigint NOT NULL DEFAULT 0
	             CONSTRAINT articles_view_count_positive CHECK (view_count >= 0),
	CONSTRAINT articles_published_has_time
		CHECK (status = 'draft' OR published_at IS NOT NULL)
);

-- The public list: newest first, keyset-paged on (published_at, id).
CREATE INDEX articles_public_idx ON articles (published_at DESC, id DESC)
	WHERE status <> 'draft';
