/* comments - moderated comments on blog articles: the public thread and
 * submission, and the admin's moderation queue. The route table is the
 * function's map; handlers live in the files comments.h lists.
 *
 * Threads: a reply names its parent (parent_id). The public list is paged
 * over top-level comments; each carries every approved reply below it,
 * replies of replies included, flattened into one "replies" list in time
 * order (each keeps its own parent_id, so a client can show "in reply to").
 * A reply is shown only while its whole chain up to the top is approved.
 */
#include <stdio.h>

#include "config.h"
#include "log.h"
#include "comments.h"

static const struct route routes[] = {
        /* public (public.c) */
        {"GET", "/api/articles/{id}/comments", comments_list},
        {"POST", "/api/articles/{id}/comments", comments_submit},

        /* admin (admin.c): every handler calls auth_require_admin */
        {"GET", "/api/admin/comments", admin_comments_list},
        {"POST", "/api/admin/comments/{id}/approve", admin_comments_approve},
        {"POST", "/api/admin/comments/{id}/spam", admin_comments_spam},
        {"DELETE", "/api/admin/comments/{id}", admin_comments_delete},
        {"PUT", "/api/admin/comments/{id}/reply", admin_comments_reply},
        ROUTES_END,
};

struct comments_config g_comments;

/* A whole number in [1, 1e6]: zero would disable the limit or make the
 * window empty, which a typo should not do silently. */
static int parse_count(const char *v, void *dest, char *err, size_t errlen)
{
	long n;

	if (config_parse_long(v, &n, err, errlen) != 0 || n < 1 || n > 1000000) {
		/* A fixed message shorter than any caller's buffer. */
		(void)snprintf(err, errlen, "must be an integer from 1 to 1000000");
		return -1;
	}
	*(long *)dest = n;
	return 0;
}

static const struct config_var comments_vars[] = {
        {"COMMENT_RATE", "5", parse_count, &g_comments.rate,
         "comments one client may submit per window"},
        {"COMMENT_RATE_WINDOW_S", "600", parse_count, &g_comments.window_s,
         "the comment rate-limit window, in seconds"},
};

/* Cold start: the function's own configuration. */
static int comments_init(void)
{
	char err[256] = "";

	if (config_load(comments_vars, sizeof(comments_vars) / sizeof(comments_vars[0]), err,
	                sizeof(err)) != 0) {
		log_error("configuration error: %s", err);
		return -1;
	}
	return 0;
}

static const struct fn_app app = {"comments", routes, comments_init};

/* The function entry point: fn_main picks the runtime. */
int main(int argc, char **argv)
{
	return fn_main(argc, argv, &app);
}
