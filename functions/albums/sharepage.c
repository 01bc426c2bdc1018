/* sharepage.c - a share link's web page: GET /s/{token} is what someone who
 * opens the link in a browser (WeChat's in-app browser, a desktop one) sees,
 * server-rendered HTML of the album (name, description, a grid of its ready
 * photos, each thumbnail linking to the display size) or of the photo (the
 * image, its description and date). POST /s/{token} sends the password of a
 * protected link from the page's form (field `password`).
 *
 * What a link shows, and whether it shows anything, is share_resolve's
 * (shares.c): the very lookup, expiry, revocation and argon2id password
 * check of GET /api/public/shares/{token}. Unknown, expired and revoked
 * links are one 404 page; a wrong password is the form again with an error
 * (403) and nothing of what the link shares. Paging is the JSON endpoint's
 * ?cursor=, through a "More photos" link; a protected link's later pages ask
 * for the password again (nothing is remembered between requests).
 *
 * Escaping is the template's (frontend/blog/templates/share, compiled in by
 * deploy/embed as share_templates): every value is escaped, nothing is raw.
 * The page needs no script; its Content-Security-Policy allows none inline,
 * its Referrer-Policy keeps the token (in the URL) from other sites, and
 * Cache-Control: no-store keeps the signed image URLs out of caches.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "albums.h"
#include "arena.h"
#include "kv.h"
#include "log.h"

#define SHARE_PAGE_CSP                                                                             \
	"default-src 'self'; img-src 'self' data: https: http:; style-src 'self'; "                \
	"script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "              \
	"frame-ancestors 'none'"

static struct tmpl_set *templates;

/* Compiles share_templates once; "templates: <template>:<line>: <reason>"
 * in err on failure, or when the set has no layout. */
int share_page_init(char *err, size_t errlen)
{
	char terr[160] = "";

	if (templates != NULL)
		return 0;
	templates = tmpl_set_new(share_templates, terr, sizeof(terr));
	if (templates == NULL) {
		snprintf(err, errlen, "share page templates: %s", terr);
		return -1;
	}
	if (!tmpl_has(templates, "layout")) {
		snprintf(err, errlen, "share page templates: no layout template");
		return -1;
	}
	return 0;
}

/* ---- helpers ---- */

/* A string field of obj, or NULL when it is missing, null or "". */
static const char *field_str(const cJSON *obj, const char *name)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, name));

	return s != NULL && s[0] != '\0' ? s : NULL;
}

/* Adds name = s to obj, or null when s is NULL: every field a template
 * names is present, so none is looked up in an enclosing object. */
static void add_str(cJSON *obj, const char *name, const char *s)
{
	if (s != NULL)
		cJSON_AddStringToObject(obj, name, s);
	else
		cJSON_AddNullToObject(obj, name);
}

/* One photo as the templates show it: its URLs, size, description, date and
 * alt text (the description, else fallback). */
static cJSON *photo_view(const cJSON *p, const char *fallback)
{
	const char *desc = field_str(p, "description");
	cJSON *v = cJSON_CreateObject();

	add_str(v, "thumb_url", field_str(p, "thumb_url"));
	add_str(v, "display_url", field_str(p, "display_url"));
	add_str(v, "description", desc);
	add_str(v, "alt", desc ? desc : fallback);
	cJSON_AddItemToObject(v, "width",
	                      cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(p, "width"), true));
	cJSON_AddItemToObject(v, "height",
	                      cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(p, "height"), true));
	cJSON_AddItemToObject(v, "date", tmpl_date(field_str(p, "taken_at")));
	return v;
}

/* The page's <head>: title, description, and og:image when given. */
static void page_meta(cJSON *data, const char *title, const char *description, const char *og_image)
{
	cJSON *meta = cJSON_AddObjectToObject(data, "meta");

	add_str(meta, "title", title);
	add_str(meta, "description", description);
	add_str(meta, "og_image", og_image);
}

/* The link's own path with the query's cursor, for the password form
 * and the next page. */
static const char *page_path(struct req *req, const char *cursor)
{
	const char *token = req_param(req, "token");

	if (cursor == NULL || cursor[0] == '\0')
		return arena_printf(req->arena, "/s/%s", token);
	return arena_printf(req->arena, "/s/%s?cursor=%s", token, kv_escape(req->arena, cursor));
}

/* ---- the page's bodies ---- */

/* A shared album: {album: {name, description, count_label, has_photos,
 * photos, next_url}}. */
static int page_album(struct req *req, cJSON *data, const cJSON *shown)
{
	const cJSON *album = cJSON_GetObjectItemCaseSensitive(shown, "album"), *p;
	const cJSON *photos = cJSON_GetObjectItemCaseSensitive(shown, "photos");
	const char *name = field_str(album, "name"), *desc = field_str(album, "description");
	const char *cursor = field_str(shown, "next_cursor");
	cJSON *a = cJSON_AddObjectToObject(data, "album"), *list;
	int i = 0, n = cJSON_GetArraySize(photos);

	if (name == NULL)
		name = "Shared album";
	add_str(a, "name", name);
	add_str(a, "description", desc);
	add_str(a, "count_label",
	        arena_printf(req->arena, "%d photo%s%s", n, n == 1 ? "" : "s",
	                     cursor || req_query(req, "cursor") ? " on this page" : ""));
	cJSON_AddBoolToObject(a, "has_photos", n > 0);
	list = cJSON_AddArrayToObject(a, "photos");
	cJSON_ArrayForEach(p, photos)
	{
		i++;
		cJSON_AddItemToArray(
		        list, photo_view(p, arena_printf(req->arena, "Photo %d from %s", i, name)));
	}
	add_str(a, "next_url", cursor ? page_path(req, cursor) : NULL);
	page_meta(data, name,
	          desc ? desc
	               : arena_printf(req->arena, "%d photo%s shared from the album %s", n,
	                              n == 1 ? "" : "s", name),
	          field_str(cJSON_GetArrayItem(photos, 0), "display_url"));
	return 200;
}

/* A shared photo: {photo: {...photo_view}}. */
static int page_photo(cJSON *data, const cJSON *shown)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(shown, "photo");
	const char *desc = field_str(p, "description");

	cJSON_AddItemToObject(data, "photo", photo_view(p, "Shared photo"));
	page_meta(data, desc ? desc : "Shared photo", desc ? desc : "A photo shared with you",
	          field_str(p, "display_url"));
	return 200;
}

/* The password form, with error when not NULL: nothing of the link's
 * content, not even whether it is an album or a photo. */
static int page_password(struct req *req, cJSON *data, const char *error, int status)
{
	cJSON *f = cJSON_AddObjectToObject(data, "password");

	add_str(f, "action", page_path(req, req_query(req, "cursor")));
	add_str(f, "error", error);
	page_meta(data, "Password required", "This shared link is protected by a password.", NULL);
	return status;
}

/* An error page of status. */
static int page_error(cJSON *data, int status, const char *heading, const char *message)
{
	cJSON *e = cJSON_AddObjectToObject(data, "error");

	cJSON_AddNumberToObject(e, "status", status);
	add_str(e, "heading", heading);
	add_str(e, "message", message);
	page_meta(data, heading, message, NULL);
	return status;
}

/* Renders the layout over data and sends it with status and the page's
 * headers. */
static int page_send(struct req *req, struct res *res, int status, const cJSON *data)
{
	size_t len = 0;
	char *html = tmpl_render(templates, "layout", data, req->arena, &len);

	res_header_set(res, "Cache-Control", "no-store");
	res_header_set(res, "Referrer-Policy", "no-referrer");
	res_header_set(res, "X-Content-Type-Options", "nosniff");
	if (html == NULL) {
		log_error("share page: rendering failed for %s", req->path);
		return res_body(res, 500, "text/plain; charset=utf-8", "internal error\n", 15,
		                false);
	}
	res_header_set(res, "Content-Security-Policy", SHARE_PAGE_CSP);
	res_header_set(res, "X-Frame-Options", "DENY");
	return res_body(res, status, "text/html; charset=utf-8", html, len, false);
}

/* The page for the link with password (NULL: none sent); posted when the
 * form sent it (a missing password is then an error). */
static int share_page(struct req *req, struct res *res, const char *password, bool posted)
{
	cJSON *shown = NULL, *data = cJSON_CreateObject();
	int status;

	switch (share_resolve(req, res, password, &shown)) {
	case SHARE_SHOWN:
		status = cJSON_GetObjectItemCaseSensitive(shown, "album")
		                 ? page_album(req, data, shown)
		                 : page_photo(data, shown);
		break;
	case SHARE_PASSWORD_REQUIRED:
		status = posted ? page_password(req, data, "Enter the password.", 403)
		                : page_password(req, data, NULL, 200);
		break;
	case SHARE_PASSWORD_INVALID:
		status = page_password(req, data, "That password is not right. Try again.", 403);
		break;
	case SHARE_FAILED:
		if (res->status >= 400 && res->status < 500) {
			status = page_error(data, res->status, "This page address is not valid",
			                    "Open the link as it was shared with you.");
			break;
		}
		status = page_error(data, res->status >= 500 ? res->status : 500,
		                    "Something went wrong",
		                    "The shared photos cannot be shown just now. Try again in a "
		                    "moment.");
		break;
	case SHARE_NOT_FOUND:
	default:
		status = page_error(
		        data, 404, "This link does not work",
		        "It may have expired or been turned off by the person who shared "
		        "it, or it was copied incompletely.");
		break;
	}
	status = page_send(req, res, status, data);
	cJSON_Delete(shown);
	cJSON_Delete(data);
	return status;
}

/* ---- handlers ---- */

/* GET /s/{token} -> 200 the page of what the link shares, or its password
 * form; 404 page for an unknown, expired or revoked link. */
int share_page_get(struct req *req, struct res *res)
{
	return share_page(req, res, NULL, false);
}

/* POST /s/{token} (application/x-www-form-urlencoded password) -> 200 the
 * page; 403 the form with an error for a missing or wrong password. */
int share_page_post(struct req *req, struct res *res)
{
	return share_page(req, res, req_form(req, "password"), true);
}
