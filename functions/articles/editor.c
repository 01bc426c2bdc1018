/* editor.c - placeholder until the admin's endpoints land. */
#include "articles.h"

static int not_yet(struct req *req, struct res *res)
{
	(void)req;
	return res_error(res, 501, "not_implemented", "not built yet", NULL);
}

int admin_stats(struct req *req, struct res *res) { return not_yet(req, res); }
int admin_preview(struct req *req, struct res *res) { return not_yet(req, res); }
