-- 002_async_queue.sql - the local gateway's durable async-invocation queue.
--
-- Async invocations (the Lambda Invoke API with InvocationType Event), S3
-- object-created events and schedule firings are rows here until a function
-- has handled them, so none is lost across a gateway restart. A delivery
-- thread claims a due row by setting locked_until (FOR UPDATE SKIP LOCKED);
-- a claim held by a gateway that died simply expires and the row is retried.
-- After max_attempts failed attempts the row moves to async_dead_letters
-- with the last error, in one transaction.

CREATE TABLE async_events (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	function     text NOT NULL
	             CONSTRAINT async_events_function_length
	             CHECK (char_length(function) BETWEEN 1 AND 170),
	-- The event as the function receives it (JSON text, kept byte for byte).
	payload      text NOT NULL,
	-- "s3:<key>:<etag>", "sched:<fn>:<event>:<epoch>", or NULL: a second
	-- event with the same (function, dedupe_key) is dropped.
	dedupe_key   text,
	attempts     integer NOT NULL DEFAULT 0
	             CONSTRAINT async_events_attempts_positive CHECK (attempts >= 0),
	-- NULL: the gateway's GW_ASYNC_ATTEMPTS.
	max_attempts integer
	             CONSTRAINT async_events_max_attempts_positive CHECK (max_attempts >= 1),
	run_at       timestamptz NOT NULL DEFAULT now(),
	locked_until timestamptz,
	last_error   text,
	created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX async_events_dedupe_key ON async_events (function, dedupe_key)
	WHERE dedupe_key IS NOT NULL;

-- Claiming: the oldest due row first.
CREATE INDEX async_events_run_at_idx ON async_events (run_at, id);

CREATE TABLE async_dead_letters (
	id           bigint PRIMARY KEY,  -- the async_events id it had
	function     text NOT NULL,
	payload      text NOT NULL,
	dedupe_key   text,
	attempts     integer NOT NULL,
	max_attempts integer,
	run_at       timestamptz NOT NULL,
	locked_until timestamptz,
	last_error   text,
	created_at   timestamptz NOT NULL,
	failed_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX async_dead_letters_failed_at_idx ON async_dead_letters (failed_at DESC, id DESC);

-- Dedupe keys outlive the event they came with (a delivered event's row is
-- deleted), so a re-sent S3 notification or a second gateway firing the same
-- schedule tick is still dropped. The gateway prunes keys older than a week.
CREATE TABLE async_dedupe (
	function     text NOT NULL,
	dedupe_key   text NOT NULL,
	created_at   timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (function, dedupe_key)
);

CREATE INDEX async_dedupe_created_at_idx ON async_dedupe (created_at);
