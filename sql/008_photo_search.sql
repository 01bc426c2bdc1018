-- 008_photo_search.sql - photo search (functions/albums/search.c): full
-- text over a photo's tags, description, caption and album name, English
-- and Chinese; substrings of Chinese through trigrams; tags case-blind;
-- dates; dominant colour; near-duplicates by perceptual hash.
--
-- photos.search is a tsvector of search_index_text() (004_search.sql:
-- English words, Han bigrams) in the 'simple' configuration, weighted tags
-- A, description and caption B, album name C. photos.search_text is the
-- same text lower-cased, one field a line, for substring matching (LIKE)
-- with a trigram index: a lone Han character at the end of a run ("宫" of
-- "故宫") is no bigram's prefix, yet a user who types it expects the photo.
-- Both are kept by triggers: on photos (description, caption, album_id),
-- on photo_tags (statement-level, once per statement whatever the number
-- of rows), and on an album rename.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE photos
	ADD COLUMN search tsvector NOT NULL DEFAULT ''::tsvector,
	ADD COLUMN search_text text NOT NULL DEFAULT '';

-- The vector of a photo's texts. Tags are joined with spaces and the
-- fields with newlines, so no bigram spans two tags or two fields.
CREATE FUNCTION photos_search_vector(tags text, description text, caption text,
                                     album_name text) RETURNS tsvector
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT setweight(to_tsvector('simple', search_index_text(coalesce(tags, ''))), 'A')
	    || setweight(to_tsvector('simple', search_index_text(
	           coalesce(description, '') || E'\n' || coalesce(caption, ''))), 'B')
	    || setweight(to_tsvector('simple', search_index_text(coalesce(album_name, ''))), 'C')
$$;

-- Both search columns of one photo, from its row values plus its tags and
-- its album's name as they are now. (Parameters are prefixed: albums has a
-- column "description" too, and a column name wins over a parameter's.)
CREATE FUNCTION photos_search_fields(p_photo text, p_album text, p_description text,
                                     p_caption text, OUT search tsvector, OUT search_text text)
	LANGUAGE sql STABLE
AS $$
	SELECT photos_search_vector(t.tags, p_description, p_caption, a.name),
	       lower(t.tags || E'\n' || coalesce(p_description, '') || E'\n' ||
	             coalesce(p_caption, '') || E'\n' || coalesce(a.name, ''))
	FROM (SELECT coalesce(string_agg(pt.tag, ' ' ORDER BY pt.tag), '') AS tags
	      FROM photo_tags pt WHERE pt.photo_id = p_photo) AS t
	LEFT JOIN albums a ON a.id = p_album
$$;

CREATE FUNCTION photos_search_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	SELECT f.search, f.search_text INTO NEW.search, NEW.search_text
	FROM photos_search_fields(NEW.id, NEW.album_id, NEW.description, NEW.caption) AS f;
	RETURN NEW;
END;
$$;

CREATE TRIGGER photos_search
	BEFORE INSERT OR UPDATE OF description, caption, album_id ON photos
	FOR EACH ROW EXECUTE FUNCTION photos_search_update();

-- Recomputes the photos whose tags a statement changed (the SET names
-- only the search columns, so photos_search does not fire again). A photo
-- deleted with its tags (ON DELETE CASCADE) is simply not found.
CREATE FUNCTION photo_tags_search_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		UPDATE photos p SET (search, search_text) =
			(SELECT f.search, f.search_text
			 FROM photos_search_fields(p.id, p.album_id, p.description, p.caption) AS f)
		WHERE p.id IN (SELECT n.photo_id FROM new_tags n);
	ELSIF TG_OP = 'DELETE' THEN
		UPDATE photos p SET (search, search_text) =
			(SELECT f.search, f.search_text
			 FROM photos_search_fields(p.id, p.album_id, p.description, p.caption) AS f)
		WHERE p.id IN (SELECT o.photo_id FROM old_tags o);
	ELSE
		UPDATE photos p SET (search, search_text) =
			(SELECT f.search, f.search_text
			 FROM photos_search_fields(p.id, p.album_id, p.description, p.caption) AS f)
		WHERE p.id IN (SELECT n.photo_id FROM new_tags n
		               UNION SELECT o.photo_id FROM old_tags o);
	END IF;
	RETURN NULL;
END;
$$;

CREATE TRIGGER photo_tags_search_insert
	AFTER INSERT ON photo_tags REFERENCING NEW TABLE AS new_tags
	FOR EACH STATEMENT EXECUTE FUNCTION photo_tags_search_update();
CREATE TRIGGER photo_tags_search_delete
	AFTER DELETE ON photo_tags REFERENCING OLD TABLE AS old_tags
	FOR EACH STATEMENT EXECUTE FUNCTION photo_tags_search_update();
CREATE TRIGGER photo_tags_search_change
	AFTER UPDATE ON photo_tags REFERENCING OLD TABLE AS old_tags NEW TABLE AS new_tags
	FOR EACH STATEMENT EXECUTE FUNCTION photo_tags_search_update();

-- An album's name is part of each of its photos' text.
CREATE FUNCTION albums_search_rename() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE photos p SET (search, search_text) =
		(SELECT f.search, f.search_text
		 FROM photos_search_fields(p.id, p.album_id, p.description, p.caption) AS f)
	WHERE p.album_id = NEW.id;
	RETURN NULL;
END;
$$;

CREATE TRIGGER albums_search_rename
	AFTER UPDATE OF name ON albums
	FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
	EXECUTE FUNCTION albums_search_rename();

-- Rows from before this migration.
UPDATE photos p SET (search, search_text) =
	(SELECT f.search, f.search_text
	 FROM photos_search_fields(p.id, p.album_id, p.description, p.caption) AS f);

-- Full text and substrings. Every query also names owner_id, status and
-- trashed_at; these indexes find the text, the row check does the rest.
CREATE INDEX photos_search_idx ON photos USING gin (search);
CREATE INDEX photos_search_text_idx ON photos USING gin (search_text gin_trgm_ops);
-- Tags match case-blind: tag filter and tag cloud.
CREATE INDEX photo_tags_lower_idx ON photo_tags (lower(tag), photo_id);
-- A user's searchable photos by date (taken, else uploaded), the order of a
-- search without text or colour.
CREATE INDEX photos_owner_when_idx ON photos (owner_id, coalesce(taken_at, created_at) DESC, id DESC)
	WHERE status = 'ready' AND trashed_at IS NULL;
-- Colour and near-duplicates scan a user's searchable photos that have one;
-- the value rides in the index, so no table page is read to reject a row.
CREATE INDEX photos_owner_color_idx ON photos (owner_id) INCLUDE (color)
	WHERE status = 'ready' AND trashed_at IS NULL AND color IS NOT NULL;
CREATE INDEX photos_owner_phash_idx ON photos (owner_id) INCLUDE (phash)
	WHERE status = 'ready' AND trashed_at IS NULL AND phash IS NOT NULL;
