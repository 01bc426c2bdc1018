/* auth_password.c - argon2id password hashes for admins and share links
 * (auth.h). Apart from auth.c so that a function checking tokens only does
 * not load libargon2. */
#include "auth.h"

#include <stdbool.h>
#include <string.h>

#include <argon2.h>

#include "arena.h"
#include "crypto.h"
#include "log.h"

/* argon2id cost: 3 passes over 32 MiB, one lane. Measured at about 80 ms
 * per hash on the development machine: above OWASP's minimum (19 MiB, t=2),
 * cheap enough for a login on a small FaaS instance (give the function at
 * least 128 MB). Changing these only affects new hashes: a PHC string
 * carries its own parameters. */
#define AUTH_ARGON2_T     3
#define AUTH_ARGON2_M_KIB 32768
#define AUTH_ARGON2_P     1
#define AUTH_ARGON2_SALT  16
#define AUTH_ARGON2_HASH  32

/* ---- passwords ------------------------------------------------------------------ */

char *auth_password_hash(struct arena *a, const char *password)
{
	unsigned char salt[AUTH_ARGON2_SALT];
	size_t n;
	char *enc;
	int rc;

	if (password == NULL)
		return NULL;
	if (crypto_random(salt, sizeof(salt)) != 0) {
		log_error("auth_password_hash: no randomness");
		return NULL;
	}
	n = argon2_encodedlen(AUTH_ARGON2_T, AUTH_ARGON2_M_KIB, AUTH_ARGON2_P, sizeof(salt),
	                      AUTH_ARGON2_HASH, Argon2_id);
	enc = arena_alloc(a, n + 1);
	rc = argon2id_hash_encoded(AUTH_ARGON2_T, AUTH_ARGON2_M_KIB, AUTH_ARGON2_P, password,
	                           strlen(password), salt, sizeof(salt), AUTH_ARGON2_HASH, enc,
	                           n + 1);
	if (rc != ARGON2_OK) {
		log_error("auth_password_hash: %s", argon2_error_message(rc));
		return NULL;
	}
	return enc;
}

bool auth_password_verify(const char *hash, const char *password)
{
	static const unsigned char dummy_salt[AUTH_ARGON2_SALT] = "auth.dummy.salt";
	unsigned char out[AUTH_ARGON2_HASH];

	if (password == NULL)
		return false;
	if (hash == NULL) {
		/* The same work as verifying a hash made by auth_password_hash(). */
		(void)argon2id_hash_raw(AUTH_ARGON2_T, AUTH_ARGON2_M_KIB, AUTH_ARGON2_P, password,
		                        strlen(password), dummy_salt, sizeof(dummy_salt), out,
		                        sizeof(out));
		return false;
	}
	if (strncmp(hash, "$argon2id$", 10) != 0)
		return false;
	return argon2id_verify(hash, password, strlen(password)) == ARGON2_OK;
}
