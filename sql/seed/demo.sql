-- Demo content for `make run`. Safe to load any number of times: rows are
-- keyed by slug (comments by a seed marker) and existing ones are left alone.
--
-- body_html is what the save path's Markdown renderer makes of body_md; the
-- public pages render body_md themselves.

INSERT INTO categories (name, slug, sort_order) VALUES
	('Engineering', 'engineering', 1),
	('Notes', 'notes', 2),
	('随笔', '随笔', 3)
ON CONFLICT DO NOTHING;

INSERT INTO tags (name, slug) VALUES
	('C', 'c'),
	('PostgreSQL', 'postgresql'),
	('serverless', 'serverless'),
	('performance', 'performance'),
	('security', 'security'),
	('中文', '中文')
ON CONFLICT DO NOTHING;

INSERT INTO articles (title, slug, summary, body_md, body_html, status, published_at)
VALUES
(
	'Welcome to the serverless blog',
	'welcome',
	'What this blog runs on: small C functions, PostgreSQL, and nothing else.',
	E'## Welcome\n\nEvery page you read here is served by a **small C function** that\nstarts in a few milliseconds.\n\n- articles\n- comments\n- photo albums\n',
	E'<h2>Welcome</h2>\n<p>Every page you read here is served by a <strong>small C function</strong> that\nstarts in a few milliseconds.</p>\n<ul>\n<li>articles</li>\n<li>comments</li>\n<li>photo albums</li>\n</ul>\n',
	'published',
	now() - interval '3 days'
),
(
	'Keyset pagination in one query',
	'keyset-pagination',
	'Why the article list pages with a cursor instead of OFFSET.',
	E'## Keyset pagination\n\n`OFFSET` skips rows the database still has to read. A cursor on\n`(published_at, id)` starts exactly where the last page ended, and a new\narticle never shifts the pages you have not read yet.\n',
	E'<h2>Keyset pagination</h2>\n<p><code>OFFSET</code> skips rows the database still has to read. A cursor on\n<code>(published_at, id)</code> starts exactly where the last page ended, and a new\narticle never shifts the pages you have not read yet.</p>\n',
	'published',
	now() - interval '2 days'
),
(
	'你好，世界 👋 无服务器博客',
	'hello-world-zh',
	'中文与表情符号 🎉 从数据库到浏览器全程 UTF-8。',
	E'## 你好，世界 👋\n\n这篇文章测试**中文**和表情符号 🚀🎉 的显示。\n',
	E'<h2>你好，世界 👋</h2>\n<p>这篇文章测试<strong>中文</strong>和表情符号 🚀🎉 的显示。</p>\n',
	'published',
	now() - interval '1 day'
),
(
	'Coming soon: photo albums',
	'coming-soon-albums',
	'A scheduled article: it appears on its own when its time comes.',
	E'The WeChat mini-program album backend is on its way.\n',
	E'<p>The WeChat mini-program album backend is on its way.</p>\n',
	'scheduled',
	now() + interval '7 days'
),
(
	'Draft: notes to self',
	'draft-notes',
	'Drafts are never listed.',
	E'Not ready yet.\n',
	E'<p>Not ready yet.</p>\n',
	'draft',
	NULL
),
(
	'Cold starts in a few milliseconds',
	'cold-starts',
	'A function written in C is ready to answer before most runtimes have loaded their standard library.',
	E'## Where the time goes\n\nA cold start is everything between `exec` and the first response: loading\nthe binary, reading the configuration, connecting to PostgreSQL.\n\n| step | time |\n|------|------|\n| exec and dynamic linking | ~1 ms |\n| configuration and templates | < 1 ms |\n| first database round trip | ~2 ms |\n\n> Measure it, don''t assume it.\n\nThe page templates are compiled once, at cold start, and kept for every\nwarm invocation after it.\n',
	E'<h2>Where the time goes</h2>\n<p>A cold start is everything between <code>exec</code> and the first response: loading\nthe binary, reading the configuration, connecting to PostgreSQL.</p>\n<table>\n<thead>\n<tr>\n<th>step</th>\n<th>time</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td>exec and dynamic linking</td>\n<td>~1 ms</td>\n</tr>\n<tr>\n<td>configuration and templates</td>\n<td>&lt; 1 ms</td>\n</tr>\n<tr>\n<td>first database round trip</td>\n<td>~2 ms</td>\n</tr>\n</tbody>\n</table>\n<blockquote>\n<p>Measure it, don''t assume it.</p>\n</blockquote>\n<p>The page templates are compiled once, at cold start, and kept for every\nwarm invocation after it.</p>\n',
	'published',
	now() - interval '5 days'
),
(
	'Escaping at the edge',
	'escaping-at-the-edge',
	'Every value on these pages is escaped by the template; only the rendered Markdown is trusted, and it is made safe by construction.',
	E'## One rule\n\nEscape at output, by the output''s rules. The page templates escape every\nvalue they print: titles, names, comments. The one exception is the article\nitself, rendered from Markdown with raw HTML switched off, so\n`<script>alert(1)</script>` in an article stays text.\n\n```c\n/* {{x}} is escaped; {{{x_html}}} only for names ending in _html */\n```\n\nThe Content-Security-Policy allows no inline script at all.\n',
	E'<h2>One rule</h2>\n<p>Escape at output, by the output''s rules. The page templates escape every\nvalue they print: titles, names, comments. The one exception is the article\nitself, rendered from Markdown with raw HTML switched off, so\n<code>&lt;script&gt;alert(1)&lt;/script&gt;</code> in an article stays text.</p>\n<pre><code class="language-c">/* {{x}} is escaped; {{{x_html}}} only for names ending in _html */\n</code></pre>\n<p>The Content-Security-Policy allows no inline script at all.</p>\n',
	'published',
	now() - interval '4 days'
),
(
	'About this blog',
	'about',
	'Who writes here, and what the blog runs on.',
	E'This is the demo blog of **serverless-c**: a blog CMS and a photo-album\nbackend written as small C functions.\n\n- Pages are rendered on the server, so they read fine without JavaScript.\n- Comments are moderated before they appear.\n- Feeds: [RSS](/rss.xml) and [Atom](/atom.xml).\n\nEdit the article with the slug `about` in the admin to change this page.\n',
	E'<p>This is the demo blog of <strong>serverless-c</strong>: a blog CMS and a photo-album\nbackend written as small C functions.</p>\n<ul>\n<li>Pages are rendered on the server, so they read fine without JavaScript.</li>\n<li>Comments are moderated before they appear.</li>\n<li>Feeds: <a href="/rss.xml">RSS</a> and <a href="/atom.xml">Atom</a>.</li>\n</ul>\n<p>Edit the article with the slug <code>about</code> in the admin to change this page.</p>\n',
	'published',
	now() - interval '30 days'
)
ON CONFLICT (slug) DO NOTHING;

-- Categories and tags of the demo articles (only where none was chosen).
UPDATE articles a SET category_id = c.id
FROM (VALUES ('welcome', 'notes'), ('keyset-pagination', 'engineering'),
             ('hello-world-zh', '随笔'), ('cold-starts', 'engineering'),
             ('escaping-at-the-edge', 'engineering'), ('coming-soon-albums', 'notes'))
     AS m (article, category)
JOIN categories c ON c.slug = m.category
WHERE a.slug = m.article AND a.category_id IS NULL;

INSERT INTO article_tags (article_id, tag_id, source)
SELECT a.id, t.id, 'manual'
FROM (VALUES ('welcome', 'serverless'), ('welcome', 'c'),
             ('keyset-pagination', 'postgresql'), ('keyset-pagination', 'performance'),
             ('hello-world-zh', '中文'),
             ('cold-starts', 'c'), ('cold-starts', 'serverless'), ('cold-starts', 'performance'),
             ('escaping-at-the-edge', 'c'), ('escaping-at-the-edge', 'security'))
     AS m (article, tag)
JOIN articles a ON a.slug = m.article
JOIN tags t ON t.slug = m.tag
ON CONFLICT DO NOTHING;

-- A moderated conversation under the welcome article: a reader's comment
-- with the author's reply, and a second reader answering the first.
INSERT INTO comments (article_id, author_name, content, status, admin_reply, admin_reply_at,
                      ip_hash, content_hash, created_at)
SELECT a.id, 'Ada', E'How fast is a cold start, really?\nI''d love to see numbers.',
       'approved', 'About 3 ms on a laptop, database connection included. There is an article on it now.',
       now() - interval '2 days', 'seed', 'seed-welcome-1', now() - interval '2 days 6 hours'
FROM articles a
WHERE a.slug = 'welcome'
  AND NOT EXISTS (SELECT 1 FROM comments WHERE content_hash = 'seed-welcome-1');

INSERT INTO comments (article_id, parent_id, author_name, content, status, ip_hash,
                      content_hash, created_at)
SELECT p.article_id, p.id, 'Grace', 'Measured it here too: the database is most of it.',
       'approved', 'seed', 'seed-welcome-2', now() - interval '1 day 20 hours'
FROM comments p
WHERE p.content_hash = 'seed-welcome-1'
  AND NOT EXISTS (SELECT 1 FROM comments WHERE content_hash = 'seed-welcome-2');

