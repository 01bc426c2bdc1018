/* pages.c - placeholder until the page renderer lands. */
#include "articles.h"

int pages_init(char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	return 0;
}

static int not_yet(struct req *req, struct res *res)
{
	(void)req;
	return res_error(res, 501, "not_implemented", "pages are not built yet", NULL);
}

int page_home(struct req *req, struct res *res) { return not_yet(req, res); }
int page_article(struct req *req, struct res *res) { return not_yet(req, res); }
int page_category(struct req *req, struct res *res) { return not_yet(req, res); }
int page_tag(struct req *req, struct res *res) { return not_yet(req, res); }
int page_search(struct req *req, struct res *res) { return not_yet(req, res); }
int page_about(struct req *req, struct res *res) { return not_yet(req, res); }
