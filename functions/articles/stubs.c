/* stubs.c - TEMPORARY while the handlers are being written: weak
 * definitions that answer 501, overridden by the real ones. */
#include "articles.h"

#define STUB(name)                                                                                 \
	__attribute__((weak)) int name(struct req *req, struct res *res)                           \
	{                                                                                          \
		(void)req;                                                                         \
		return res_error(res, 501, "not_implemented", #name " is not written yet", NULL);  \
	}

STUB(articles_hot)
STUB(articles_view)
STUB(categories_list)
STUB(tags_cloud)
STUB(quote_today)
STUB(articles_search)
STUB(feed_rss)
STUB(feed_atom)
STUB(sitemap_xml)
STUB(admin_articles_list)
STUB(admin_articles_get)
STUB(admin_articles_create)
STUB(admin_articles_update)
STUB(admin_articles_delete)
STUB(categories_create)
STUB(categories_update)
STUB(categories_delete)
STUB(tags_create)
STUB(tags_update)
STUB(tags_delete)
STUB(uploads_create)

__attribute__((weak)) const char *search_tsquery(struct arena *a, const char *q)
{
	(void)a;
	(void)q;
	return NULL;
}
