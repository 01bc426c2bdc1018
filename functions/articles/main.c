/* articles - the blog: public reading API, search, feeds, and the admin's
 * writing API. The route table is the function's map; handlers live in the
 * files articles.h lists. Literal routes come before {param} ones.
 */
#include "articles.h"
#include "log.h"

static const struct route routes[] = {
        /* public (public.c, search.c, feeds.c) */
        {"GET", "/api/health", health_get},
        {"GET", "/api/articles", articles_list},
        {"GET", "/api/articles/hot", articles_hot},
        {"GET", "/api/articles/{id}", articles_get}, /* id or slug */
        {"POST", "/api/articles/{id}/views", articles_view},
        {"GET", "/api/categories", categories_list},
        {"GET", "/api/tags", tags_cloud},
        {"GET", "/api/quote", quote_today},
        {"GET", "/api/search", articles_search},
        {"GET", "/rss.xml", feed_rss},
        {"GET", "/atom.xml", feed_atom},
        {"GET", "/sitemap.xml", sitemap_xml},

        /* server-rendered pages (pages.c, templates in frontend/blog/templates) */
        {"GET", "/", page_home},
        {"GET", "/articles/{slug}", page_article},
        {"GET", "/category/{slug}", page_category},
        {"GET", "/tag/{slug}", page_tag},
        {"GET", "/search", page_search},
        {"GET", "/about", page_about},

        /* admin (admin.c, taxonomy.c, editor.c): every handler calls auth_require_admin */
        {"GET", "/api/admin/stats", admin_stats},
        {"POST", "/api/admin/preview", admin_preview},
        {"GET", "/api/admin/tags", admin_tags_list},
        {"GET", "/api/admin/articles", admin_articles_list},
        {"GET", "/api/admin/articles/{id}", admin_articles_get},
        {"POST", "/api/articles", admin_articles_create},
        {"PUT", "/api/articles/{id}", admin_articles_update},
        {"DELETE", "/api/articles/{id}", admin_articles_delete},
        {"POST", "/api/categories", categories_create},
        {"PUT", "/api/categories/{id}", categories_update},
        {"DELETE", "/api/categories/{id}", categories_delete},
        {"POST", "/api/tags", tags_create},
        {"PUT", "/api/tags/{id}", tags_update},
        {"DELETE", "/api/tags/{id}", tags_delete},
        {"POST", "/api/uploads", uploads_create},
        ROUTES_END,
};

/* Reads the function's own variables at cold start: a bad value stops it
 * there, naming the variable, instead of failing requests later. */
static int articles_init(void)
{
	char err[200];

	if (site_init(err, sizeof(err)) != 0 || public_init(err, sizeof(err)) != 0 ||
	    uploads_init(err, sizeof(err)) != 0 || pages_init(err, sizeof(err)) != 0) {
		log_error("configuration error: %s", err);
		return -1;
	}
	return 0;
}

static const struct fn_app app = {"articles", routes, articles_init};

/* The function entry point: fn_main picks the runtime. */
int main(int argc, char **argv)
{
	return fn_main(argc, argv, &app);
}
