/* test_text.c - slugs, Markdown rendering and its safety, HTML/XML escaping,
 * full-text search terms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "text.h"

#define N(x) (sizeof(x) / sizeof((x)[0]))

struct pair {
	const char *in;
	const char *want;
};

static void test_slug_table(void **state)
{
	static const struct pair cases[] = {
	        {"Hello, World!", "hello-world"},
	        {"  Leading and trailing  ", "leading-and-trailing"},
	        {"C11 & PostgreSQL 15", "c11-postgresql-15"},
	        {"你好世界", "你好世界"},
	        {"你好，世界", "你好-世界"}, /* fullwidth comma separates */
	        {"Serverless 博客 in C", "serverless-博客-in-c"},
	        {"Rocket 🚀 launch", "rocket-launch"}, /* emoji dropped */
	        {"🚀🎉", ""},
	        {"!!!---???", ""},
	        {"", ""},
	        {"a--b__c", "a-b-c"},
	        {"Café Über", "café-Über"}, /* non-ASCII letters kept as written */
	        {"x\xff\xfey", "x-y"},      /* invalid UTF-8 is a separator */
	        {"«quoted» — text…", "quoted-text"},
	};
	struct arena *a = arena_new();

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		const char *got = text_slug(a, cases[i].in, 200);

		if (strcmp(got, cases[i].want) != 0)
			fail_msg("slug(%s) = \"%s\", want \"%s\"", cases[i].in, got, cases[i].want);
	}
	assert_string_equal(text_slug(a, NULL, 10), "");
	arena_free(a);
}

static void test_slug_max_len(void **state)
{
	struct arena *a = arena_new();
	const char *s;

	(void)state;
	/* ASCII: cut after 10 bytes, never ending with '-'. */
	assert_string_equal(text_slug(a, "abcdefghijklmnop", 10), "abcdefghij");
	assert_string_equal(text_slug(a, "hello world again", 6), "hello");
	assert_string_equal(text_slug(a, "hello world again", 7), "hello-w");
	/* Each Han character is 3 bytes: 8 bytes hold two of them, not a split third. */
	s = text_slug(a, "中文标题", 8);
	assert_string_equal(s, "中文");
	assert_int_equal(strlen(s), 6);
	s = text_slug(a, "ab中文", 4);
	assert_string_equal(s, "ab");
	assert_string_equal(text_slug(a, "abc", 0), "");
	/* Every slug from a long title is within the limit and valid UTF-8 at its end. */
	for (size_t max = 1; max < 40; max++) {
		s = text_slug(a, "Ünïcødé 标题 with 🚀 many words 你好世界", max);
		assert_true(strlen(s) <= max);
		if (*s) {
			unsigned char last = (unsigned char)s[strlen(s) - 1];

			assert_true(last != '-');
			/* The last byte is ASCII or a continuation byte, never a lead byte. */
			assert_true(last < 0x80 || (last & 0xC0) == 0x80);
		}
	}
	arena_free(a);
}

/* want: substrings that must appear; deny: substrings that must not. */
struct md_case {
	const char *md;
	const char *want[4];
	const char *deny[4];
};

static void test_markdown_render(void **state)
{
	static const struct md_case cases[] = {
	        {"# Title\n\n## Sub", {"<h1>Title</h1>", "<h2>Sub</h2>"}, {"#"}},
	        {"Some *em* and **strong** and ~~gone~~",
	         {"<p>Some <em>em</em> and <strong>strong</strong> and <del>gone</del></p>"},
	         {NULL}},
	        {"- one\n- two\n", {"<ul>\n<li>one</li>\n<li>two</li>\n</ul>"}, {NULL}},
	        {"3. three\n4. four\n", {"<ol start=\"3\">", "<li>four</li>"}, {NULL}},
	        {"```c\nint x = a < b;\n```\n",
	         {"<pre><code class=\"language-c\">int x = a &lt; b;\n</code></pre>"},
	         {"a < b"}},
	        {"Use `a<b>` inline", {"<code>a&lt;b&gt;</code>"}, {NULL}},
	        {"[site](https://example.com/a?b=1&c=2 \"T\")",
	         {"<a href=\"https://example.com/a?b=1&amp;c=2\" title=\"T\">site</a>"},
	         {NULL}},
	        {"[rel](/articles/x) [mail](mailto:a@b.c)",
	         {"<a href=\"/articles/x\">rel</a>", "<a href=\"mailto:a@b.c\">mail</a>"},
	         {NULL}},
	        {"see https://example.org now", {"<a href=\"https://example.org\">"}, {NULL}},
	        {"![pic](/img/a.png)", {"<img src=\"/img/a.png\" alt=\"pic\">"}, {NULL}},
	        {"| a | b |\n|---|--:|\n| 1 | 2 |\n",
	         {"<table>", "<th>a</th>", "<td align=\"right\">2</td>"},
	         {NULL}},
	        {"> quoted\n", {"<blockquote>\n<p>quoted</p>\n</blockquote>"}, {NULL}},
	        {"中文 😀 text", {"<p>中文 😀 text</p>"}, {NULL}},
	};
	struct arena *a = arena_new();

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		const char *html = text_markdown_html(a, cases[i].md, strlen(cases[i].md));

		assert_non_null(html);
		for (size_t k = 0; k < 4 && cases[i].want[k]; k++) {
			if (!strstr(html, cases[i].want[k]))
				fail_msg("md %s -> %s lacks %s", cases[i].md, html,
				         cases[i].want[k]);
		}
		for (size_t k = 0; k < 4 && cases[i].deny[k]; k++) {
			if (strstr(html, cases[i].deny[k]))
				fail_msg("md %s -> %s has %s", cases[i].md, html, cases[i].deny[k]);
		}
	}
	arena_free(a);
}

static void test_markdown_safety(void **state)
{
	static const struct md_case cases[] = {
	        {"<script>alert(1)</script>",
	         {"&lt;script&gt;alert(1)&lt;/script&gt;"},
	         {"<script"}},
	        {"hi <img src=x onerror=alert(1)> there",
	         {"&lt;img src=x onerror=alert(1)&gt;"},
	         {"<img"}},
	        {"<div onclick=\"x()\">\nblock\n</div>\n", {"&lt;div"}, {"<div"}},
	        {"[x](javascript:alert(1))", {"<p>x</p>"}, {"href", "javascript:"}},
	        {"[x](JavaScript:alert(1))", {"x"}, {"href"}},
	        {"[x](&#106;avascript:alert(1))", {"x"}, {"href"}},
	        {"[x](java&#x09;script:alert(1))", {"x"}, {"href"}},
	        {"[x](vbscript:msgbox)", {"x"}, {"href"}},
	        {"[x](data:text/html;base64,PHNjcmlwdD4=)", {"x"}, {"href", "data:"}},
	        {"<javascript:alert(1)>", {NULL}, {"href"}},
	        {"![x](data:text/html,<script>alert(1)</script>)", {NULL}, {"<img", "data:text"}},
	        {"![x](javascript:alert(1))", {"x"}, {"<img", "javascript"}},
	        {"![dot](data:image/png;base64,iVBORw0KGgo=)",
	         {"<img src=\"data:image/png;base64,iVBORw0KGgo=\" alt=\"dot\">"},
	         {NULL}},
	        {"[q](https://x.org/\"onmouseover=\"alert(1))",
	         {"href=\"https://x.org/%22"},
	         {"\"onmouseover"}},
	        {"![a\"b](/x.png \"t'<\")", {"alt=\"a&quot;b\"", "title=\"t&#39;&lt;\""}, {NULL}},
	        {"[t](/x 'a\" onclick=\"b')",
	         {"title=\"a&quot; onclick=&quot;b\""},
	         {"\" onclick"}},
	};
	struct arena *a = arena_new();

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		const char *html = text_markdown_html(a, cases[i].md, strlen(cases[i].md));

		assert_non_null(html);
		for (size_t k = 0; k < 4 && cases[i].want[k]; k++) {
			if (!strstr(html, cases[i].want[k]))
				fail_msg("md %s -> %s lacks %s", cases[i].md, html,
				         cases[i].want[k]);
		}
		for (size_t k = 0; k < 4 && cases[i].deny[k]; k++) {
			if (strstr(html, cases[i].deny[k]))
				fail_msg("md %s -> %s has %s", cases[i].md, html, cases[i].deny[k]);
		}
	}
	/* NUL bytes inside the source come out as U+FFFD, and the length is honoured. */
	{
		static const char src[] = "a\0b<";
		const char *html = text_markdown_html(a, src, 3);

		assert_string_equal(html, "<p>a\xEF\xBF\xBD"
		                          "b</p>\n");
	}
	assert_null(text_markdown_html(a, NULL, 0));
	assert_string_equal(text_markdown_html(a, "", 0), "");
	arena_free(a);
}

static void test_html_escape(void **state)
{
	static const struct pair cases[] = {
	        {"plain", "plain"},
	        {"<a href=\"x\">'&'</a>", "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"},
	        {"&amp;", "&amp;amp;"},
	        {"中文 😀", "中文 😀"},
	        {"", ""},
	};
	struct arena *a = arena_new();

	(void)state;
	for (size_t i = 0; i < N(cases); i++)
		assert_string_equal(text_html_escape(a, cases[i].in), cases[i].want);
	assert_string_equal(text_html_escape(a, NULL), "");
	arena_free(a);
}

static void test_xml_escape(void **state)
{
	static const struct pair cases[] = {
	        {"a<b>&\"'", "a&lt;b&gt;&amp;&quot;&apos;"},
	        {"tab\tlf\ncr\r", "tab\tlf\ncr\r"},
	        {"bell\x07nul-ish\x01\x1f end", "bellnul-ish end"},
	        {"]]>", "]]&gt;"},
	        {"\xEF\xBF\xBE\xEF\xBF\xBF ok", " ok"}, /* U+FFFE, U+FFFF dropped */
	        {"bad \xC0\xAF \xED\xA0\x80!",
	         "bad \xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD!"},
	        {"中文 😀 \xC2\x85", "中文 😀 \xC2\x85"}, /* NEL is allowed in XML 1.0 */
	};
	struct arena *a = arena_new();

	(void)state;
	for (size_t i = 0; i < N(cases); i++)
		assert_string_equal(text_xml_escape(a, cases[i].in), cases[i].want);
	assert_string_equal(text_xml_escape(a, NULL), "");
	arena_free(a);
}

static void test_xml_cdata(void **state)
{
	static const struct pair cases[] = {
	        {"<p>hi</p>", "<![CDATA[<p>hi</p>]]>"},
	        {"a]]>b", "<![CDATA[a]]]]><![CDATA[>b]]>"},
	        {"]]>]]>", "<![CDATA[]]]]><![CDATA[>]]]]><![CDATA[>]]>"},
	        {"]]]>", "<![CDATA[]]]]]><![CDATA[>]]>"},
	        {"x\x01y", "<![CDATA[xy]]>"},
	        {"", "<![CDATA[]]>"},
	};
	struct arena *a = arena_new();

	(void)state;
	for (size_t i = 0; i < N(cases); i++)
		assert_string_equal(text_xml_cdata(a, cases[i].in), cases[i].want);
	arena_free(a);
}

/* The query side of sql/004_search.sql's index text. */
static void test_tsquery_table(void **state)
{
	static const struct pair cases[] = {
	        {"PostgreSQL", "'postgresql':*"},
	        {"Hello, World 42", "'hello':* & 'world':* & '42':*"},
	        {"故宫", "'故宫'"},
	        {"北京故宫", "'北京' & '京故' & '故宫'"},
	        {"宫", "'宫':*"},
	        {"Rust编程", "'rust':* & '编程'"},
	        {"a'b", "'a':* & 'b':*"},                    /* quotes separate */
	        {"x & !y | (z:*)", "'x':* & 'y':* & 'z':*"}, /* operators are not kept */
	        {"故%宫", "'故':* & '宫':*"},
	        {"Ünï 🚀 ok", "'n':* & 'ok':*"}, /* non-ASCII letters separate */
	        {"ab\xff\xfe", "'ab':*"},       /* invalid UTF-8 separates */
	};
	static const char *const none[] = {"", "   ", "%", "':*", "&|!()", "\\", "🚀🎉", "\xe4\xb8"};
	struct arena *a = arena_new();
	struct text_term *v;

	(void)state;
	for (size_t i = 0; i < N(cases); i++)
		assert_string_equal(text_tsquery(a, cases[i].in), cases[i].want);
	for (size_t i = 0; i < N(none); i++)
		assert_null(text_tsquery(a, none[i]));
	assert_null(text_tsquery(a, NULL));
	assert_int_equal(text_search_terms(a, NULL, &v), 0);
	assert_int_equal(text_search_terms(a, "Tea 故宫", &v), 2);
	assert_string_equal(v[0].text, "tea");
	assert_true(v[0].ascii && v[0].prefix);
	assert_int_equal(v[1].len, 6);
	assert_false(v[1].ascii || v[1].prefix);
	arena_free(a);
}

static void test_utf8_next(void **state)
{
	static const struct {
		const char *s;
		size_t n, len;
		uint32_t cp;
	} rows[] = {
	        {"a", 1, 1, 'a'},
	        {"\xc3\xa9", 2, 2, 0xe9},
	        {"\xe6\x95\x85x", 4, 3, 0x6545},
	        {"\xf0\x9f\x98\x80", 4, 4, 0x1f600},
	        {"\xc3\xa9", 1, 1, TEXT_UTF8_INVALID},         /* cut short by n */
	        {"\xc0\xaf", 2, 1, TEXT_UTF8_INVALID},         /* overlong */
	        {"\xe0\x80\xaf", 3, 1, TEXT_UTF8_INVALID},     /* overlong */
	        {"\xed\xa0\x80", 3, 1, TEXT_UTF8_INVALID},     /* surrogate */
	        {"\xf4\x90\x80\x80", 4, 1, TEXT_UTF8_INVALID}, /* > U+10FFFF */
	        {"\xe6\x95x", 3, 1, TEXT_UTF8_INVALID},        /* bad continuation */
	        {"\x80", 1, 1, TEXT_UTF8_INVALID},
	        {"\xff", 1, 1, TEXT_UTF8_INVALID},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint32_t cp = 0;

		assert_int_equal(text_utf8_next((const unsigned char *)rows[i].s, rows[i].n, &cp),
		                 rows[i].len);
		assert_int_equal(cp, rows[i].cp);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_slug_table),      cmocka_unit_test(test_slug_max_len),
	        cmocka_unit_test(test_markdown_render), cmocka_unit_test(test_markdown_safety),
	        cmocka_unit_test(test_html_escape),     cmocka_unit_test(test_xml_escape),
	        cmocka_unit_test(test_xml_cdata),       cmocka_unit_test(test_tsquery_table),
	        cmocka_unit_test(test_utf8_next),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
