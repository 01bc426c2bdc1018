/* test_tmpl.c - the template renderer: every tag kind, escaping, sections
 * over each JSON type, lookup up the context stack, partials, compile errors
 * with their positions, number formatting, limits, a large render. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "arena.h"
#include "tmpl.h"

#define N(x) (sizeof(x) / sizeof((x)[0]))

struct render_case {
	const char *tmpl;
	const char *json; /* NULL: no data */
	const char *want;
};

/* tmpl compiled alone as "t" and rendered over json; the output copied to
 * a (fails the test on a compile error or a NULL render). */
static char *render1(struct arena *a, const char *tmpl, const char *json)
{
	struct tmpl_source src[] = {{"t", tmpl}, {NULL, NULL}};
	char err[256];
	struct tmpl_set *set = tmpl_set_new(src, err, sizeof(err));
	cJSON *data = NULL;
	char *out, *copy;
	size_t len = 12345;

	if (set == NULL)
		fail_msg("compile \"%s\": %s", tmpl, err);
	if (json != NULL) {
		data = cJSON_Parse(json);
		if (data == NULL)
			fail_msg("bad test JSON: %s", json);
	}
	out = tmpl_render(set, "t", data, a, &len);
	if (out == NULL)
		fail_msg("render \"%s\" returned NULL", tmpl);
	assert_int_equal(len, strlen(out));
	copy = arena_strdup(a, out);
	cJSON_Delete(data);
	tmpl_set_free(set);
	return copy;
}

static void run_cases(const struct render_case *cases, size_t n)
{
	struct arena *a = arena_new();

	for (size_t i = 0; i < n; i++) {
		const char *got = render1(a, cases[i].tmpl, cases[i].json);

		if (strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu: \"%s\" over %s = \"%s\", want \"%s\"", i, cases[i].tmpl,
			         cases[i].json ? cases[i].json : "NULL", got, cases[i].want);
	}
	arena_free(a);
}

static void test_variables(void **state)
{
	static const struct render_case cases[] = {
	        {"plain text", NULL, "plain text"},
	        {"", NULL, ""},
	        {"Hello, {{name}}!", "{\"name\":\"Ann\"}", "Hello, Ann!"},
	        {"{{ name }}|{{\tname\n}}", "{\"name\":\"x\"}", "x|x"},
	        {"[{{missing}}]", "{\"name\":\"x\"}", "[]"},
	        {"[{{n}}]", "{\"n\":null}", "[]"},
	        {"[{{name}}]", NULL, "[]"},
	        {"{{t}} {{f}}", "{\"t\":true,\"f\":false}", "true false"},
	        {"[{{arr}}][{{obj}}]", "{\"arr\":[1,2],\"obj\":{\"a\":1}}", "[][]"},
	        {"{{a.b.c}}", "{\"a\":{\"b\":{\"c\":\"deep\"}}}", "deep"},
	        {"[{{a.x.c}}]", "{\"a\":{\"b\":{\"c\":\"deep\"}}}", "[]"},
	        {"[{{a.b.c}}]", "{\"a\":{\"b\":\"str\"}}", "[]"},
	        {"{{.}}", "\"top\"", "top"},
	        {"{{.}}", "7", "7"},
	        {"{{!a comment}}x{{! another\nmultiline }}y", "{}", "xy"},
	        {"a { b } c }} d {", "{}", "a { b } c }} d {"},
	        {"{{a}}}", "{\"a\":1}", "1}"},
	        /* UTF-8 passes through untouched, in text and in values. */
	        {"标题：{{t}} 🚀", "{\"t\":\"你好 «мир» 🎉\"}", "标题：你好 «мир» 🎉 🚀"},
	        {"{{t}}", "{\"t\":\"caf\\u00e9\"}", "café"},
	};

	(void)state;
	run_cases(cases, N(cases));
}

static void test_escaping(void **state)
{
	static const struct render_case cases[] = {
	        {"{{s}}", "{\"s\":\"&\"}", "&amp;"},
	        {"{{s}}", "{\"s\":\"<\"}", "&lt;"},
	        {"{{s}}", "{\"s\":\">\"}", "&gt;"},
	        {"{{s}}", "{\"s\":\"\\\"\"}", "&quot;"},
	        {"{{s}}", "{\"s\":\"'\"}", "&#39;"},
	        {"{{s}}", "{\"s\":\"<script>alert('x&y')</script>\"}",
	         "&lt;script&gt;alert(&#39;x&amp;y&#39;)&lt;/script&gt;"},
	        {"<a title=\"{{s}}\">", "{\"s\":\"\\\" onmouseover=\\\"x\"}",
	         "<a title=\"&quot; onmouseover=&quot;x\">"},
	        {"{{s}}", "{\"s\":\"no specials here\"}", "no specials here"},
	        {"{{s}}", "{\"s\":\"&amp;\"}", "&amp;amp;"},
	        /* Template text itself is never escaped. */
	        {"<b>&amp;</b>{{s}}", "{\"s\":\"<\"}", "<b>&amp;</b>&lt;"},
	        /* Raw tags for _html names: both forms, dotted too. */
	        {"{{{body_html}}}", "{\"body_html\":\"<p>a &amp; b</p>\"}", "<p>a &amp; b</p>"},
	        {"{{& body_html }}", "{\"body_html\":\"<em>x</em>\"}", "<em>x</em>"},
	        {"{{{ post.body_html }}}", "{\"post\":{\"body_html\":\"<i>'</i>\"}}", "<i>'</i>"},
	        {"{{body_html}}", "{\"body_html\":\"<p>\"}", "&lt;p&gt;"},
	        {"[{{{missing_html}}}]", "{}", "[]"},
	};

	(void)state;
	run_cases(cases, N(cases));
}

static void test_numbers(void **state)
{
	static const struct render_case cases[] = {
	        {"{{n}}", "{\"n\":42}", "42"},
	        {"{{n}}", "{\"n\":-3}", "-3"},
	        {"{{n}}", "{\"n\":0}", "0"},
	        {"{{n}}", "{\"n\":-0.0}", "0"},
	        {"{{n}}", "{\"n\":1700000000}", "1700000000"},
	        {"{{n}}", "{\"n\":42.0}", "42"},
	        {"{{n}}", "{\"n\":9007199254740993}", "9007199254740992"},
	        {"{{n}}", "{\"n\":3.14}", "3.14"},
	        {"{{n}}", "{\"n\":0.1}", "0.1"},
	        {"{{n}}", "{\"n\":-2.5}", "-2.5"},
	        {"{{n}}", "{\"n\":2.5e-7}", "2.5e-07"},
	        {"{{n}}", "{\"n\":1e20}", "1e+20"},
	        {"{{n}}", "{\"n\":0.30000000000000004}", "0.3"},
	};

	(void)state;
	run_cases(cases, N(cases));
}

static void test_sections(void **state)
{
	static const struct render_case cases[] = {
	        /* Arrays: once per item, the item on top. */
	        {"{{#xs}}<{{.}}>{{/xs}}", "{\"xs\":[1,\"a\",true]}", "<1><a><true>"},
	        {"{{#xs}}{{name}},{{/xs}}", "{\"xs\":[{\"name\":\"a\"},{\"name\":\"b\"}]}", "a,b,"},
	        {"[{{#xs}}x{{/xs}}]", "{\"xs\":[]}", "[]"},
	        {"{{#xs}}[{{#.}}{{.}}{{/.}}]{{/xs}}", "{\"xs\":[[1,2],[],[3]]}", "[12][][3]"},
	        /* Objects: once, on top; an empty object is truthy. */
	        {"{{#o}}{{a}}-{{b}}{{/o}}", "{\"o\":{\"a\":1,\"b\":2}}", "1-2"},
	        {"{{#o}}yes{{/o}}", "{\"o\":{}}", "yes"},
	        /* Booleans, strings, numbers, null, missing. */
	        {"{{#b}}yes{{/b}}", "{\"b\":true}", "yes"},
	        {"[{{#b}}yes{{/b}}]", "{\"b\":false}", "[]"},
	        {"{{#s}}({{.}}){{/s}}", "{\"s\":\"hi\"}", "(hi)"},
	        {"[{{#s}}x{{/s}}]", "{\"s\":\"\"}", "[]"},
	        {"{{#n}}({{.}}){{/n}}", "{\"n\":5}", "(5)"},
	        {"{{#n}}({{.}}){{/n}}", "{\"n\":-0.5}", "(-0.5)"},
	        {"[{{#n}}x{{/n}}]", "{\"n\":0}", "[]"},
	        {"[{{#z}}x{{/z}}]", "{\"z\":null}", "[]"},
	        {"[{{#m}}x{{/m}}]", "{}", "[]"},
	        {"[{{#m}}x{{/m}}]", NULL, "[]"},
	        /* Inverted: once when falsy. */
	        {"{{^xs}}none{{/xs}}", "{\"xs\":[]}", "none"},
	        {"[{{^xs}}none{{/xs}}]", "{\"xs\":[0]}", "[]"},
	        {"{{^b}}no{{/b}}", "{\"b\":false}", "no"},
	        {"{{^z}}no{{/z}}", "{\"z\":null}", "no"},
	        {"{{^m}}no{{/m}}", "{}", "no"},
	        {"{{^m}}no{{/m}}", NULL, "no"},
	        {"{{^s}}no{{/s}}", "{\"s\":\"\"}", "no"},
	        {"{{^n}}no{{/n}}", "{\"n\":0}", "no"},
	        {"[{{^o}}no{{/o}}]", "{\"o\":{}}", "[]"},
	        {"[{{^s}}no{{/s}}]", "{\"s\":\"x\"}", "[]"},
	        /* An inverted section does not push: names resolve as outside. */
	        {"{{^xs}}{{name}}{{/xs}}", "{\"xs\":[],\"name\":\"n\"}", "n"},
	        {"{{#xs}}a{{/xs}}{{^xs}}b{{/xs}}", "{\"xs\":[1]}", "a"},
	        {"{{#s}}{{^e}}({{.}}){{/e}}{{/s}}", "{\"s\":\"str\",\"e\":[]}", "(str)"},
	        /* Dotted section names. */
	        {"{{#a.list}}{{.}}{{/a.list}}", "{\"a\":{\"list\":[1,2]}}", "12"},
	        /* Whitespace inside section tags. */
	        {"{{# xs }}{{.}}{{/ xs }}", "{\"xs\":[1,2]}", "12"},
	        {"{{ #xs }}{{.}}{{ /xs }}", "{\"xs\":[3]}", "3"},
	};

	(void)state;
	run_cases(cases, N(cases));
}

static void test_context_stack(void **state)
{
	static const struct render_case cases[] = {
	        /* Names not on the item are found further down the stack. */
	        {"{{#article}}{{#tags}}{{name}}@{{site}}/{{title}} {{/tags}}{{/article}}",
	         "{\"site\":\"blog\",\"article\":{\"title\":\"T\",\"tags\":[{\"name\":\"c\"},"
	         "{\"name\":\"sql\",\"title\":\"own\"}]}}",
	         "c@blog/T sql@blog/own "},
	        /* The nearest frame wins. */
	        {"{{x}}{{#o}}{{x}}{{#p}}{{x}}{{/p}}{{x}}{{/o}}{{x}}",
	         "{\"x\":1,\"o\":{\"x\":2,\"p\":{\"x\":3}}}", "12321"},
	        /* A dotted name's first segment is found, then descent fails: empty,
	         * not a lower frame's a.b (Mustache rules). */
	        {"{{#o}}[{{a.b}}]{{/o}}", "{\"a\":{\"b\":\"low\"},\"o\":{\"a\":{\"c\":1}}}", "[]"},
	        {"{{#o}}[{{a.b}}]{{/o}}", "{\"a\":{\"b\":\"low\"},\"o\":{\"z\":1}}", "[low]"},
	        /* A non-object frame (an array item) is skipped in lookups. */
	        {"{{#xs}}{{.}}{{sep}}{{/xs}}", "{\"sep\":\",\",\"xs\":[\"a\",\"b\"]}", "a,b,"},
	        /* A key holding null still stops the search (it is found). */
	        {"{{#o}}[{{k}}]{{/o}}", "{\"k\":\"low\",\"o\":{\"k\":null}}", "[]"},
	};

	(void)state;
	run_cases(cases, N(cases));
}

/* A template of depth nested {{#a}} sections around "X", over data whose
 * "a" is an object nested at least that deep. */
static char *nested_template(int depth)
{
	size_t cap = (size_t)depth * 12 + 8;
	char *t = malloc(cap);
	size_t n = 0;

	assert_non_null(t);
	for (int i = 0; i < depth; i++)
		n += (size_t)snprintf(t + n, cap - n, "{{#a}}");
	n += (size_t)snprintf(t + n, cap - n, "X");
	for (int i = 0; i < depth; i++)
		n += (size_t)snprintf(t + n, cap - n, "{{/a}}");
	return t;
}

static void test_context_depth_cap(void **state)
{
	struct arena *a = arena_new();
	cJSON *data = cJSON_CreateObject(), *o = data;
	char *t63 = nested_template(63), *t64 = nested_template(64);
	struct tmpl_source src[] = {{"t63", t63}, {"t64", t64}, {NULL, NULL}};
	char err[128];
	struct tmpl_set *set;

	(void)state;
	for (int i = 0; i < 70; i++)
		o = cJSON_AddObjectToObject(o, "a");
	set = tmpl_set_new(src, err, sizeof(err));
	assert_non_null(set);
	/* data + 63 sections = 64 frames: fits. */
	assert_string_equal(tmpl_render(set, "t63", data, a, NULL), "X");
	/* The 64th section would be frame 65: renders nothing. */
	assert_string_equal(tmpl_render(set, "t64", data, a, NULL), "");
	tmpl_set_free(set);
	cJSON_Delete(data);
	free(t63);
	free(t64);
	arena_free(a);
}

static void test_partials(void **state)
{
	static const struct tmpl_source src[] = {
	        {"page", "<nav>{{> nav}}</nav>{{#posts}}{{>card}}{{/posts}}"},
	        {"nav", "{{#cats}}<a>{{.}}</a>{{/cats}}"},
	        {"card", "<article>{{title}} in {{site}}</article>"},
	        {"self", "x{{>self}}"},
	        {"ping", "p{{>pong}}"},
	        {"pong", "q{{>ping}}"},
	        {NULL, NULL},
	};
	struct arena *a = arena_new();
	char err[128];
	struct tmpl_set *set = tmpl_set_new(src, err, sizeof(err));
	cJSON *data = cJSON_Parse("{\"site\":\"S\",\"cats\":[\"c1\",\"c2\"],"
	                          "\"posts\":[{\"title\":\"A\"},{\"title\":\"B<\"}]}");
	char want[64];
	size_t len;

	(void)state;
	if (set == NULL)
		fail_msg("%s", err);
	assert_true(tmpl_has(set, "page"));
	assert_true(tmpl_has(set, "card"));
	assert_false(tmpl_has(set, "missing"));
	assert_false(tmpl_has(set, "Page"));
	assert_false(tmpl_has(NULL, "page"));
	/* A partial renders in the caller's context (the section item on top). */
	assert_string_equal(tmpl_render(set, "page", data, a, NULL),
	                    "<nav><a>c1</a><a>c2</a></nav>"
	                    "<article>A in S</article><article>B&lt; in S</article>");
	assert_string_equal(tmpl_render(set, "card", data, a, NULL), "<article> in S</article>");
	/* Recursion stops after 16 nested partials: the template itself plus 16. */
	memset(want, 'x', 17);
	want[17] = '\0';
	assert_string_equal(tmpl_render(set, "self", data, a, &len), want);
	assert_int_equal(len, 17);
	assert_string_equal(tmpl_render(set, "ping", NULL, a, NULL), "pqpqpqpqpqpqpqpqp");
	/* No such template. */
	assert_null(tmpl_render(set, "nope", data, a, &len));
	assert_int_equal(len, 0);
	assert_null(tmpl_render(set, NULL, data, a, NULL));
	assert_null(tmpl_render(NULL, "page", data, a, NULL));
	cJSON_Delete(data);
	tmpl_set_free(set);
	arena_free(a);
}

struct error_case {
	const char *tmpl;
	const char *want;
};

static void test_compile_errors(void **state)
{
	static const struct error_case cases[] = {
	        {"a\nb\n{{#articles}}\n{{/articles}}\n\n{{#articles}}x\ny",
	         "t:6: unclosed section 'articles'"},
	        {"{{#y}}\n\n{{/x}}", "t:3: '{{/x}}' closes 'y'"},
	        {"{{#a}}{{#b}}{{/a}}{{/b}}", "t:1: '{{/a}}' closes 'b'"},
	        {"{{#a}}{{^b}}{{/b}}", "t:1: unclosed section 'a'"},
	        {"x\n{{/x}}", "t:2: '{{/x}}' closes nothing"},
	        {"{{#a.b}}{{/a}}", "t:1: '{{/a}}' closes 'a.b'"},
	        {"one\ntwo {{name", "t:2: unclosed tag"},
	        {"{{{x_html}}", "t:1: unclosed tag"},
	        {"{{! never closed", "t:1: unclosed tag"},
	        {"{{}}", "t:1: empty tag name"},
	        {"{{  }}", "t:1: empty tag name"},
	        {"{{#}}{{/}}", "t:1: empty tag name"},
	        {"{{>}}", "t:1: empty tag name"},
	        {"{{{}}}", "t:1: empty tag name"},
	        {"{{&}}", "t:1: empty tag name"},
	        {"{{a b}}", "t:1: bad tag name 'a b'"},
	        {"{{a..b}}", "t:1: empty segment in name 'a..b'"},
	        {"{{.a}}", "t:1: empty segment in name '.a'"},
	        {"{{a.}}", "t:1: empty segment in name 'a.'"},
	        {"{{=<% %>=}}", "t:1: set delimiters are not supported"},
	        /* Raw output only for names ending in _html. */
	        {"{{{body}}}", "t:1: raw tag on 'body' (only names ending in _html are output "
	                       "unescaped)"},
	        {"\n{{& title }}", "t:2: raw tag on 'title' (only names ending in _html are "
	                           "output unescaped)"},
	        {"{{{html}}}", "t:1: raw tag on 'html' (only names ending in _html are output "
	                       "unescaped)"},
	        {"{{{a_html.b}}}", "t:1: raw tag on 'a_html.b' (only names ending in _html are "
	                           "output unescaped)"},
	        {"{{{.}}}", "t:1: raw tag on '.' (only names ending in _html are output "
	                    "unescaped)"},
	        /* Lines count inside multi-line tags and comments. */
	        {"{{! a\nb\n}}\n{{/x}}", "t:4: '{{/x}}' closes nothing"},
	        {"{{\nname\n}}{{}}", "t:3: empty tag name"},
	        /* Partials are resolved after every source is read. */
	        {"a\n\n{{> nav}}", "t:3: unknown partial 'nav'"},
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct tmpl_source src[] = {{"t", cases[i].tmpl}, {NULL, NULL}};
		struct tmpl_set *set = tmpl_set_new(src, err, sizeof(err));

		if (set != NULL) {
			tmpl_set_free(set);
			fail_msg("case %zu: \"%s\" compiled", i, cases[i].tmpl);
		}
		if (strcmp(err, cases[i].want) != 0)
			fail_msg("case %zu: \"%s\": error \"%s\", want \"%s\"", i, cases[i].tmpl,
			         err, cases[i].want);
	}
}

static void test_set_errors(void **state)
{
	static const struct tmpl_source dup[] = {{"a", "x"}, {"b", "y"}, {"a", "z"}, {NULL, NULL}};
	static const struct tmpl_source later[] = {
	        {"home", "{{> base}}"}, {"base", "ok"}, {"bad", "\n{{>gone}}"}, {NULL, NULL}};
	static const struct tmpl_source second[] = {
	        {"good", "fine"}, {"home", "1\n2\n{{#x}}"}, {NULL, NULL}};
	static const struct tmpl_source empty[] = {{NULL, NULL}};
	char err[256], tiny[8];
	struct tmpl_set *set;

	(void)state;
	assert_null(tmpl_set_new(dup, err, sizeof(err)));
	assert_string_equal(err, "a:1: duplicate template 'a'");
	/* A partial defined after its user is fine; an unknown one names its user. */
	assert_null(tmpl_set_new(later, err, sizeof(err)));
	assert_string_equal(err, "bad:2: unknown partial 'gone'");
	assert_null(tmpl_set_new(second, err, sizeof(err)));
	assert_string_equal(err, "home:3: unclosed section 'x'");
	/* A short buffer gets a truncated, terminated message; none at all is ok. */
	assert_null(tmpl_set_new(second, tiny, sizeof(tiny)));
	assert_string_equal(tiny, "home:3:");
	assert_null(tmpl_set_new(second, NULL, 0));
	/* An empty set compiles and has nothing. */
	set = tmpl_set_new(empty, err, sizeof(err));
	assert_non_null(set);
	assert_false(tmpl_has(set, "a"));
	tmpl_set_free(set);
	tmpl_set_free(NULL);
}

/* Nesting deeper than 64 sections in one template is a compile error. */
static void test_nesting_cap(void **state)
{
	char *t64 = nested_template(64), *t65 = nested_template(65);
	struct tmpl_source ok[] = {{"t", t64}, {NULL, NULL}};
	struct tmpl_source bad[] = {{"t", t65}, {NULL, NULL}};
	char err[128];
	struct tmpl_set *set;

	(void)state;
	set = tmpl_set_new(ok, err, sizeof(err));
	assert_non_null(set);
	tmpl_set_free(set);
	assert_null(tmpl_set_new(bad, err, sizeof(err)));
	assert_string_equal(err, "t:1: sections nested deeper than 64");
	free(t64);
	free(t65);
}

/* Sources are copied: the set outlives the caller's buffers. */
static void test_sources_copied(void **state)
{
	char name[] = "t", text[] = "<{{v}}>";
	struct tmpl_source src[] = {{name, text}, {NULL, NULL}};
	struct arena *a = arena_new();
	struct tmpl_set *set = tmpl_set_new(src, NULL, 0);
	cJSON *data = cJSON_Parse("{\"v\":1}");

	(void)state;
	assert_non_null(set);
	memset(text, '#', sizeof(text) - 1);
	name[0] = 'z';
	assert_string_equal(tmpl_render(set, "t", data, a, NULL), "<1>");
	cJSON_Delete(data);
	tmpl_set_free(set);
	arena_free(a);
}

/* A page of n post cards; returns the output, its length in *len. */
static char *render_cards(struct arena *a, const struct tmpl_set *set, int n, size_t *len)
{
	cJSON *data = cJSON_CreateObject();
	cJSON *posts = cJSON_AddArrayToObject(data, "posts");
	char buf[64];
	char *out;

	cJSON_AddStringToObject(data, "site", "Blog & Co");
	for (int i = 0; i < n; i++) {
		cJSON *p = cJSON_CreateObject();

		snprintf(buf, sizeof(buf), "post-%d", i);
		cJSON_AddStringToObject(p, "slug", buf);
		cJSON_AddStringToObject(p, "title", "Tea <&> \"Coffee\"");
		cJSON_AddNumberToObject(p, "id", i);
		cJSON_AddItemToArray(posts, p);
	}
	out = tmpl_render(set, "list", data, a, len);
	cJSON_Delete(data);
	return out;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A 100 KB+ page renders whole, and 16x the data costs about 16x the time
 * (a quadratic buffer would cost ~256x). */
static void test_large_render(void **state)
{
	static const struct tmpl_source src[] = {
	        {"list", "<main>{{#posts}}{{>card}}{{/posts}}</main>"},
	        {"card", "<article class=\"post-card\" data-id=\"{{id}}\"><h2><a "
	                 "href=\"/articles/{{slug}}\">{{title}}</a></h2>{{site}}</article>\n"},
	        {NULL, NULL},
	};
	static const char card[] = "<article class=\"post-card\" data-id=\"%d\"><h2><a "
	                           "href=\"/articles/post-%d\">Tea &lt;&amp;&gt; "
	                           "&quot;Coffee&quot;</a></h2>Blog &amp; Co</article>\n";
	struct arena *a = arena_new();
	struct tmpl_set *set = tmpl_set_new(src, NULL, 0);
	size_t len, off;
	char *out, want[256];
	double t0, t1, t2, t3;

	(void)state;
	assert_non_null(set);
	t0 = now_s();
	out = render_cards(a, set, 2000, &len);
	t1 = now_s();
	assert_non_null(out);
	assert_true(len > 100 * 1024);
	assert_int_equal(len, strlen(out));
	assert_memory_equal(out, "<main>", 6);
	off = 6;
	for (int i = 0; i < 2000; i++) {
		int n = snprintf(want, sizeof(want), card, i, i);

		assert_memory_equal(out + off, want, (size_t)n);
		off += (size_t)n;
	}
	assert_string_equal(out + off, "</main>");
	t2 = now_s();
	out = render_cards(a, set, 32000, &len);
	t3 = now_s();
	assert_non_null(out);
	assert_true(len > 16 * 100 * 1024);
	/* Generous bound: only catches quadratic growth. */
	if (t1 - t0 > 0.002 && t3 - t2 > 80 * (t1 - t0))
		fail_msg("16x data took %.3fs vs %.3fs", t3 - t2, t1 - t0);
	tmpl_set_free(set);
	arena_free(a);
}

/* Loops nested over big arrays stop with NULL rather than run for ever,
 * whether they print nothing (a step limit) or a lot (an output limit). */
static void test_limits(void **state)
{
	static const struct tmpl_source src[] = {
	        {"quiet", "{{#xs}}{{#xs}}{{#xs}}{{#xs}}{{none}}{{/xs}}{{/xs}}{{/xs}}{{/xs}}"},
	        {"loud", "{{#xs}}{{#xs}}{{#xs}}{{big}}{{/xs}}{{/xs}}{{/xs}}"},
	        {NULL, NULL},
	};
	struct arena *a = arena_new();
	struct tmpl_set *set = tmpl_set_new(src, NULL, 0);
	cJSON *data = cJSON_CreateObject();
	cJSON *xs = cJSON_AddArrayToObject(data, "xs");
	char big[1001];
	char *out;
	size_t len = 1;

	(void)state;
	assert_non_null(set);
	memset(big, 'b', 1000);
	big[1000] = '\0';
	cJSON_AddStringToObject(data, "big", big);
	for (int i = 0; i < 20; i++)
		cJSON_AddItemToArray(xs, cJSON_CreateNumber(i));
	/* 20^4 visits and 20^3 KB (8 MB): fine. */
	out = tmpl_render(set, "quiet", data, a, &len);
	assert_string_equal(out, "");
	out = tmpl_render(set, "loud", data, a, &len);
	assert_non_null(out);
	assert_int_equal(len, 8000 * 1000);
	assert_true(out[0] == 'b' && out[len - 1] == 'b');
	for (int i = 20; i < 60; i++)
		cJSON_AddItemToArray(xs, cJSON_CreateNumber(i));
	/* 60^4 = 13M visits: refused. */
	assert_null(tmpl_render(set, "quiet", data, a, &len));
	assert_int_equal(len, 0);
	/* 60^3 KB = 216 MB: refused. */
	assert_null(tmpl_render(set, "loud", data, a, &len));
	assert_int_equal(len, 0);
	cJSON_Delete(data);
	tmpl_set_free(set);
	arena_free(a);
}

/* The output belongs to the arena: it survives the set and the data. */
static void test_output_in_arena(void **state)
{
	static const struct tmpl_source src[] = {{"t", "[{{v}}]"}, {NULL, NULL}};
	struct arena *a = arena_new();
	struct tmpl_set *set = tmpl_set_new(src, NULL, 0);
	cJSON *data = cJSON_Parse("{\"v\":\"kept\"}");
	char *out;

	(void)state;
	out = tmpl_render(set, "t", data, a, NULL);
	cJSON_Delete(data);
	tmpl_set_free(set);
	assert_string_equal(out, "[kept]");
	arena_reset(a);
	arena_free(a);
}

/* Times for templates: iso + human from db_row_json's RFC 3339; null for
 * anything that is not one. */
static void test_date(void **state)
{
	static const struct {
		const char *in, *iso, *human;
	} rows[] = {
	        {"2026-11-27T09:30:05.123456Z", "2026-11-27T09:30:05Z", "27 November 2026"},
	        {"2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z", "29 February 2024"},
	        {"1999-01-01T23:59:59Z", "1999-01-01T23:59:59Z", "1 January 1999"},
	        {NULL, NULL, NULL},
	        {"", NULL, NULL},
	        {"yesterday", NULL, NULL},
	        {"2026-13-01T00:00:00Z", NULL, NULL},
	        {"2026-00-10T00:00:00Z", NULL, NULL},
	        {"2026-05-32T00:00:00Z", NULL, NULL},
	        {"2026-05-10T24:00:00Z", NULL, NULL},
	        {"2026-05-10", NULL, NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cJSON *d = tmpl_date(rows[i].in);

		if (rows[i].iso == NULL) {
			if (!cJSON_IsNull(d))
				fail_msg("row %zu: want null", i);
		} else {
			assert_string_equal(
			        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "iso")),
			        rows[i].iso);
			assert_string_equal(
			        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "human")),
			        rows[i].human);
		}
		cJSON_Delete(d);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_variables),      cmocka_unit_test(test_escaping),
	        cmocka_unit_test(test_numbers),        cmocka_unit_test(test_sections),
	        cmocka_unit_test(test_context_stack),  cmocka_unit_test(test_context_depth_cap),
	        cmocka_unit_test(test_partials),       cmocka_unit_test(test_compile_errors),
	        cmocka_unit_test(test_set_errors),     cmocka_unit_test(test_nesting_cap),
	        cmocka_unit_test(test_sources_copied), cmocka_unit_test(test_large_render),
	        cmocka_unit_test(test_limits),         cmocka_unit_test(test_output_in_arena),
	        cmocka_unit_test(test_date),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
