/* albums - the WeChat mini-program's photo albums: albums, photos, uploads,
 * search and share links. The route table is the function's map; handlers
 * live in the files albums.h lists. Literal routes come before {param} ones.
 */
#include "albums.h"

static const struct route routes[] = {
        {"GET", "/api/albums", albums_list},
        {"POST", "/api/albums", albums_create},
        {"GET", "/api/albums/{id}", albums_get},
        {"PUT", "/api/albums/{id}", albums_update},
        {"DELETE", "/api/albums/{id}", albums_delete},
        {"GET", "/api/albums/{id}/photos", photos_list},
        {"POST", "/api/albums/{id}/photos", photos_create},
        {"POST", "/api/albums/{id}/photos/direct", photos_upload_direct},

        {"GET", "/api/photos/search", photos_search},
        {"GET", "/api/photos/tags", photo_tags_cloud},
        {"GET", "/api/photos/trash", trash_list},
        {"GET", "/api/photos/{id}", photos_get},
        {"PUT", "/api/photos/{id}", photos_update},
        {"DELETE", "/api/photos/{id}", photos_delete},
        {"POST", "/api/photos/{id}/complete", photos_complete},
        {"POST", "/api/photos/{id}/restore", photos_restore},
        {"POST", "/api/photos/{id}/purge", photos_purge},
        {"GET", "/api/photos/{id}/similar", photos_similar},

        {"GET", "/api/shares", shares_list},
        {"POST", "/api/shares", shares_create},
        {"DELETE", "/api/shares/{id}", shares_delete},
        {"GET", "/api/public/shares/{token}", shares_public},
        {"GET", "/s/{token}", share_page_get},
        {"POST", "/s/{token}", share_page_post},

        {"EVENT", "/events/schedule", trash_purge_scheduled},
        ROUTES_END,
};

static const struct fn_app app = {"albums", routes, albums_init};

/* The function entry point: fn_main picks the runtime. */
int main(int argc, char **argv)
{
	return fn_main(argc, argv, &app);
}
