-- Demo content for `make run`. Safe to load any number of times: rows are
-- keyed by slug and existing ones are left alone.

INSERT INTO articles (title, slug, summary, body_md, body_html, status, published_at)
VALUES
(
	'Welcome to the serverless blog',
	'welcome',
	'What this blog runs on: small C functions, PostgreSQL, and nothing else.',
	E'# Welcome\n\nEvery page you read here is served by a **small C function** that\nstarts in a few milliseconds.\n\n- articles\n- comments\n- photo albums\n',
	E'<h1>Welcome</h1>\n<p>Every page you read here is served by a <strong>small C function</strong> that\nstarts in a few milliseconds.</p>\n<ul>\n<li>articles</li>\n<li>comments</li>\n<li>photo albums</li>\n</ul>\n',
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
	E'# 你好，世界 👋\n\n这篇文章测试**中文**和表情符号 🚀🎉 的显示。\n',
	E'<h1>你好，世界 👋</h1>\n<p>这篇文章测试<strong>中文</strong>和表情符号 🚀🎉 的显示。</p>\n',
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
)
ON CONFLICT (slug) DO NOTHING;
