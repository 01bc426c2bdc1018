/* site.c - the blog's identity, for everything that links back to it (pages,
 * feeds, sitemap): SITE_URL, SITE_TITLE and SITE_DESCRIPTION, read once at
 * cold start. */
#include <stdio.h>
#include <string.h>

#include "articles.h"
#include "config.h"

struct site g_site = {
        "http://127.0.0.1:8080",
        "Blog",
        "Notes on building small, fast serverless functions in C.",
};

/* An http(s) URL, kept without its trailing slashes. */
static int parse_site_url(const char *v, void *dest, char *err, size_t errlen)
{
	static char url[512];
	size_t n = strlen(v);

	if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) {
		snprintf(err, errlen, "must be an http:// or https:// URL");
		return -1;
	}
	while (n > 8 && v[n - 1] == '/')
		n--;
	if (n >= sizeof(url)) {
		snprintf(err, errlen, "must be shorter than %zu characters", sizeof(url));
		return -1;
	}
	memcpy(url, v, n);
	url[n] = '\0';
	*(const char **)dest = url;
	return 0;
}

static const struct config_var site_vars[] = {
        {"SITE_URL", NULL, parse_site_url, &g_site.url,
         "the blog's public base URL: canonical, Open Graph, feed and sitemap links"},
        {"SITE_TITLE", NULL, config_parse_str, &g_site.title, "the blog's name"},
        {"SITE_DESCRIPTION", NULL, config_parse_str, &g_site.description,
         "the home page's meta description"},
};

/* Reads site_vars; empty or unset keeps the default. 0, or -1 naming the
 * bad variable in err. */
int site_init(char *err, size_t errlen)
{
	return config_load(site_vars, sizeof(site_vars) / sizeof(site_vars[0]), err, errlen);
}
