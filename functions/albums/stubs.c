/* stubs.c - TEMPORARY while the handlers are being written: weak
 * definitions that answer 501, overridden by the real ones. */
#include "albums.h"

#define STUB(name)                                                                                 \
	__attribute__((weak)) int name(struct req *req, struct res *res)                           \
	{                                                                                          \
		(void)req;                                                                         \
		return res_error(res, 501, "not_implemented", #name " is not written yet", NULL);  \
	}

STUB(albums_list)
STUB(albums_create)
STUB(albums_get)
STUB(albums_update)
STUB(albums_delete)
STUB(photos_list)
STUB(photos_get)
STUB(photos_update)
STUB(photos_delete)
STUB(photos_restore)
STUB(photos_purge)
STUB(trash_list)
STUB(trash_purge_scheduled)
STUB(photos_create)
STUB(photos_complete)
STUB(photos_upload_direct)
STUB(photos_search)
STUB(photo_tags_cloud)
STUB(photos_similar)
STUB(shares_create)
STUB(shares_list)
STUB(shares_delete)
STUB(shares_public)

__attribute__((weak)) char *album_new_id(struct arena *a)
{
	(void)a;
	return NULL;
}

__attribute__((weak)) int album_id_valid(const char *s)
{
	(void)s;
	return 0;
}

__attribute__((weak)) int album_purge_objects(const char *o, const char *t, const char *d)
{
	(void)o;
	(void)t;
	(void)d;
	return -1;
}
