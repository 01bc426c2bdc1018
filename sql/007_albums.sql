-- 007_albums.sql - the photo-album backend of the WeChat mini-program:
-- users (by openid) and their sessions, albums, photos and their tags, and
-- share links. Public ids of user-owned things are unguessable (22 chars of
-- base64url from 16 random bytes, made by the server).

CREATE TABLE app_users (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	openid         text NOT NULL
	               CONSTRAINT app_users_openid_key UNIQUE
	               CONSTRAINT app_users_openid_length CHECK (char_length(openid) BETWEEN 1 AND 128),
	unionid        text,
	nickname       text NOT NULL DEFAULT ''
	               CONSTRAINT app_users_nickname_length CHECK (char_length(nickname) <= 64),
	-- NULL: the configured defaults (ALBUM_QUOTA_BYTES, ALBUM_QUOTA_PHOTOS)
	quota_bytes    bigint CONSTRAINT app_users_quota_bytes CHECK (quota_bytes >= 0),
	quota_photos   integer CONSTRAINT app_users_quota_photos CHECK (quota_photos >= 0),
	created_at     timestamptz NOT NULL DEFAULT now(),
	last_login_at  timestamptz NOT NULL DEFAULT now()
);

-- What a WeChat user's token names: revocable, expiring.
CREATE TABLE app_sessions (
	id          text PRIMARY KEY
	            CONSTRAINT app_sessions_id_format CHECK (id ~ '^[0-9a-f]{32}$'),
	user_id     bigint NOT NULL REFERENCES app_users (id) ON DELETE CASCADE,
	created_at  timestamptz NOT NULL DEFAULT now(),
	expires_at  timestamptz NOT NULL,
	revoked_at  timestamptz
);
CREATE INDEX app_sessions_user_idx ON app_sessions (user_id);

CREATE TABLE albums (
	id              text PRIMARY KEY CONSTRAINT albums_id_format CHECK (id ~ '^[A-Za-z0-9_-]{22}$'),
	owner_id        bigint NOT NULL REFERENCES app_users (id) ON DELETE CASCADE,
	name            text NOT NULL
	                CONSTRAINT albums_name_length CHECK (char_length(name) BETWEEN 1 AND 100),
	description     text NOT NULL DEFAULT ''
	                CONSTRAINT albums_description_length CHECK (char_length(description) <= 2000),
	cover_photo_id  text,
	sort_order      integer NOT NULL DEFAULT 0,
	created_at      timestamptz NOT NULL DEFAULT now(),
	updated_at      timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT albums_owner_name_key UNIQUE (owner_id, name)
);
-- A user's albums, by sort order then newest.
CREATE INDEX albums_owner_idx ON albums (owner_id, sort_order, created_at DESC, id);

CREATE TABLE photos (
	id              text PRIMARY KEY CONSTRAINT photos_id_format CHECK (id ~ '^[A-Za-z0-9_-]{22}$'),
	owner_id        bigint NOT NULL REFERENCES app_users (id) ON DELETE CASCADE,
	album_id        text NOT NULL REFERENCES albums (id) ON DELETE CASCADE,
	status          text NOT NULL DEFAULT 'uploading'
	                CONSTRAINT photos_status_valid
	                CHECK (status IN ('uploading', 'processing', 'ready', 'failed')),
	failure_reason  text,
	-- Object keys, all chosen by the server: originals under photos/o/,
	-- outputs under photos/t/ (square thumbnail) and photos/d/ (display
	-- size), so no output can match the originals' trigger.
	object_key      text NOT NULL CONSTRAINT photos_object_key_key UNIQUE,
	thumb_key       text,
	display_key     text,
	content_type    text,
	size_bytes      bigint NOT NULL DEFAULT 0 CONSTRAINT photos_size_positive CHECK (size_bytes >= 0),
	width           integer,
	height          integer,
	taken_at        timestamptz,
	camera          text,
	gps_lat         double precision,
	gps_lon         double precision,
	orientation     smallint,
	phash           bigint,            -- 64-bit perceptual hash
	color           text CONSTRAINT photos_color_format CHECK (color ~ '^#[0-9a-f]{6}$'),
	description     text NOT NULL DEFAULT ''
	                CONSTRAINT photos_description_length CHECK (char_length(description) <= 2000),
	caption         text NOT NULL DEFAULT ''
	                CONSTRAINT photos_caption_length CHECK (char_length(caption) <= 2000),
	trashed_at      timestamptz,
	created_at      timestamptz NOT NULL DEFAULT now(),
	updated_at      timestamptz NOT NULL DEFAULT now()
);
-- An album's photos, newest first (keyset on created_at, id).
CREATE INDEX photos_album_idx ON photos (album_id, created_at DESC, id DESC)
	WHERE trashed_at IS NULL;
-- A user's trash, and the scheduled purge of old trash.
CREATE INDEX photos_trash_idx ON photos (owner_id, trashed_at DESC) WHERE trashed_at IS NOT NULL;
CREATE INDEX photos_trashed_at_idx ON photos (trashed_at) WHERE trashed_at IS NOT NULL;
-- Quotas and search by date within a user's photos.
CREATE INDEX photos_owner_idx ON photos (owner_id, taken_at);

ALTER TABLE albums ADD CONSTRAINT albums_cover_fkey
	FOREIGN KEY (cover_photo_id) REFERENCES photos (id) ON DELETE SET NULL;

CREATE TABLE photo_tags (
	photo_id  text NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
	tag       text NOT NULL CONSTRAINT photo_tags_tag_length CHECK (char_length(tag) BETWEEN 1 AND 50),
	-- user: typed by the owner; auto: from image tagging (a later function)
	source    text NOT NULL DEFAULT 'user'
	          CONSTRAINT photo_tags_source_valid CHECK (source IN ('user', 'auto')),
	PRIMARY KEY (photo_id, tag)
);
CREATE INDEX photo_tags_tag_idx ON photo_tags (tag, photo_id);

-- Share links: the token is shown once; only its sha256 is stored.
CREATE TABLE shares (
	id             text PRIMARY KEY CONSTRAINT shares_id_format CHECK (id ~ '^[A-Za-z0-9_-]{22}$'),
	owner_id       bigint NOT NULL REFERENCES app_users (id) ON DELETE CASCADE,
	album_id       text REFERENCES albums (id) ON DELETE CASCADE,
	photo_id       text REFERENCES photos (id) ON DELETE CASCADE,
	token_hash     text NOT NULL CONSTRAINT shares_token_hash_key UNIQUE,
	password_hash  text CONSTRAINT shares_password_format CHECK (password_hash LIKE '$argon2id$%'),
	expires_at     timestamptz,
	revoked_at     timestamptz,
	created_at     timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT shares_one_target CHECK ((album_id IS NULL) <> (photo_id IS NULL))
);
CREATE INDEX shares_owner_idx ON shares (owner_id, created_at DESC);
