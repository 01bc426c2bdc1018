-- 003_blog.sql - the blog CMS around articles: admins and their sessions,
-- categories, tags, comments, quotes, view counting, search and the term
-- statistics the keyword extractor uses.
--
-- Every list the API serves has an index below, named after the list.

-- ---- admins ----------------------------------------------------------------

CREATE TABLE admin_users (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	username      text NOT NULL
	              CONSTRAINT admin_users_username_key UNIQUE
	              CONSTRAINT admin_users_username_format
	              CHECK (username ~ '^[A-Za-z0-9_.@-]{1,64}$'),
	-- argon2id, PHC string format ($argon2id$v=19$m=...,t=...,p=...$salt$hash)
	password_hash text NOT NULL
	              CONSTRAINT admin_users_hash_format CHECK (password_hash LIKE '$argon2id$%'),
	display_name  text NOT NULL DEFAULT ''
	              CONSTRAINT admin_users_display_name_length
	              CHECK (char_length(display_name) <= 100),
	created_at    timestamptz NOT NULL DEFAULT now()
);

-- A session is what a token names: logout revokes it, expiry ends it.
CREATE TABLE admin_sessions (
	id          text PRIMARY KEY
	            CONSTRAINT admin_sessions_id_format CHECK (id ~ '^[0-9a-f]{32}$'),
	user_id     bigint NOT NULL REFERENCES admin_users (id) ON DELETE CASCADE,
	created_at  timestamptz NOT NULL DEFAULT now(),
	expires_at  timestamptz NOT NULL,
	revoked_at  timestamptz
);
CREATE INDEX admin_sessions_user_idx ON admin_sessions (user_id);

-- Failed logins, by "user:<name>" and by "ip:<hash>", for throttling.
CREATE TABLE login_failures (
	key         text NOT NULL CONSTRAINT login_failures_key_length CHECK (char_length(key) <= 200),
	failed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_key_idx ON login_failures (key, failed_at DESC);

-- ---- categories and tags ------------------------------------------------------

-- Slugs: lower-case ASCII letters and digits, or any non-ASCII character
-- (Chinese titles keep their characters), words joined by single hyphens.
CREATE TABLE categories (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name        text NOT NULL
	            CONSTRAINT categories_name_key UNIQUE
	            CONSTRAINT categories_name_length CHECK (char_length(name) BETWEEN 1 AND 80),
	slug        text NOT NULL
	            CONSTRAINT categories_slug_key UNIQUE
	            CONSTRAINT categories_slug_format
	            CHECK (char_length(slug) <= 100
	                   AND slug ~ '^[a-z0-9\u0080-\U0010FFFF]+(-[a-z0-9\u0080-\U0010FFFF]+)*$'),
	sort_order  integer NOT NULL DEFAULT 0,
	created_at  timestamptz NOT NULL DEFAULT now()
);
-- The category list: by sort order, then name.
CREATE INDEX categories_list_idx ON categories (sort_order, name);

CREATE TABLE tags (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name        text NOT NULL
	            CONSTRAINT tags_name_key UNIQUE
	            CONSTRAINT tags_name_length CHECK (char_length(name) BETWEEN 1 AND 50),
	slug        text NOT NULL
	            CONSTRAINT tags_slug_key UNIQUE
	            CONSTRAINT tags_slug_format
	            CHECK (char_length(slug) <= 60
	                   AND slug ~ '^[a-z0-9\u0080-\U0010FFFF]+(-[a-z0-9\u0080-\U0010FFFF]+)*$'),
	created_at  timestamptz NOT NULL DEFAULT now()
);

-- ---- articles -------------------------------------------------------------------

ALTER TABLE articles
	DROP CONSTRAINT articles_slug_format,
	ADD CONSTRAINT articles_slug_format
		CHECK (char_length(slug) <= 200
		       AND slug ~ '^[a-z0-9\u0080-\U0010FFFF]+(-[a-z0-9\u0080-\U0010FFFF]+)*$'),
	ADD COLUMN category_id bigint REFERENCES categories (id) ON DELETE SET NULL,
	ADD COLUMN author_id   bigint REFERENCES admin_users (id) ON DELETE SET NULL,
	-- The distinct keyword-extractor terms of the article (nlp.h), kept by
	-- the save path; nlp_terms' document frequencies follow it by trigger.
	ADD COLUMN terms       text[] NOT NULL DEFAULT '{}';

-- Lists by category (newest first) and hot (most viewed first).
CREATE INDEX articles_category_idx ON articles (category_id, published_at DESC, id DESC)
	WHERE status <> 'draft';
CREATE INDEX articles_hot_idx ON articles (view_count DESC, id DESC)
	WHERE status <> 'draft';
CREATE INDEX articles_author_idx ON articles (author_id);

CREATE TABLE article_tags (
	article_id  bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
	tag_id      bigint NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
	-- manual: chosen by the writer; auto: a top keyword, replaced on each edit
	source      text NOT NULL
	            CONSTRAINT article_tags_source_valid CHECK (source IN ('manual', 'auto')),
	PRIMARY KEY (article_id, tag_id)
);
-- Lists by tag.
CREATE INDEX article_tags_tag_idx ON article_tags (tag_id, article_id);

-- One view per client per article per window: a reload loop counts once.
CREATE TABLE article_views (
	article_id    bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
	client_hash   text NOT NULL,
	window_start  timestamptz NOT NULL,
	PRIMARY KEY (article_id, client_hash, window_start)
);
CREATE INDEX article_views_window_idx ON article_views (window_start);

-- ---- keyword statistics (TF-IDF) ----------------------------------------------

-- Document frequency of each term over the articles' terms arrays.
CREATE TABLE nlp_terms (
	term  text PRIMARY KEY,
	df    integer NOT NULL CONSTRAINT nlp_terms_df_positive CHECK (df >= 0)
);

CREATE FUNCTION articles_terms_df() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	old_terms text[] := CASE WHEN TG_OP = 'INSERT' THEN '{}' ELSE OLD.terms END;
	new_terms text[] := CASE WHEN TG_OP = 'DELETE' THEN '{}' ELSE NEW.terms END;
BEGIN
	IF old_terms = new_terms THEN
		RETURN NULL;
	END IF;
	-- Terms that left the article.
	UPDATE nlp_terms SET df = df - 1
	WHERE term IN (SELECT unnest(old_terms) EXCEPT SELECT unnest(new_terms));
	DELETE FROM nlp_terms WHERE df <= 0;
	-- Terms that joined it.
	INSERT INTO nlp_terms AS t (term, df)
	SELECT term, 1 FROM (SELECT unnest(new_terms) EXCEPT SELECT unnest(old_terms)) AS n (term)
	ON CONFLICT (term) DO UPDATE SET df = t.df + 1;
	RETURN NULL;
END;
$$;

CREATE TRIGGER articles_terms_df
	AFTER INSERT OR DELETE OR UPDATE OF terms ON articles
	FOR EACH ROW EXECUTE FUNCTION articles_terms_df();

-- ---- comments -------------------------------------------------------------------

CREATE TABLE comments (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	article_id      bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
	parent_id       bigint REFERENCES comments (id) ON DELETE CASCADE,
	author_name     text NOT NULL
	                CONSTRAINT comments_author_name_length
	                CHECK (char_length(author_name) BETWEEN 1 AND 80),
	-- Never shown publicly.
	author_email    text
	                CONSTRAINT comments_author_email_length CHECK (char_length(author_email) <= 254),
	-- Plain text, stored as written; every output escapes it.
	content         text NOT NULL
	                CONSTRAINT comments_content_length CHECK (char_length(content) BETWEEN 1 AND 5000),
	status          text NOT NULL DEFAULT 'pending'
	                CONSTRAINT comments_status_valid
	                CHECK (status IN ('pending', 'approved', 'spam', 'deleted')),
	admin_reply     text
	                CONSTRAINT comments_admin_reply_length CHECK (char_length(admin_reply) <= 5000),
	admin_reply_at  timestamptz,
	-- HMAC of the client address (never the address itself).
	ip_hash         text NOT NULL,
	-- sha256 of the normalised content, for duplicate rejection.
	content_hash    text NOT NULL,
	created_at      timestamptz NOT NULL DEFAULT now()
);
-- The public thread of an article (approved, oldest first).
CREATE INDEX comments_article_idx ON comments (article_id, status, created_at, id);
-- Moderation lists by status, newest first.
CREATE INDEX comments_status_idx ON comments (status, created_at DESC, id DESC);
-- Rate limit and duplicates per client.
CREATE INDEX comments_client_idx ON comments (ip_hash, created_at DESC);
CREATE INDEX comments_parent_idx ON comments (parent_id);

-- ---- quotes -----------------------------------------------------------------------

CREATE TABLE quotes (
	id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	text    text NOT NULL CONSTRAINT quotes_text_length CHECK (char_length(text) BETWEEN 1 AND 1000),
	author  text NOT NULL DEFAULT ''
);

INSERT INTO quotes (text, author) VALUES
	('Simplicity is prerequisite for reliability.', 'Edsger W. Dijkstra'),
	('Make it work, make it right, make it fast.', 'Kent Beck'),
	('Premature optimization is the root of all evil.', 'Donald Knuth'),
	('Talk is cheap. Show me the code.', 'Linus Torvalds'),
	('Programs must be written for people to read, and only incidentally for machines to execute.', 'Harold Abelson'),
	('The most effective debugging tool is still careful thought, coupled with judiciously placed print statements.', 'Brian Kernighan'),
	('千里之行，始于足下。', '老子'),
	('学而不思则罔，思而不学则殆。', '孔子'),
	('知之者不如好之者，好之者不如乐之者。', '孔子'),
	('Data dominates. If you have chosen the right data structures, the algorithms will almost always be self-evident.', 'Rob Pike');
