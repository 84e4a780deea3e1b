/* refresh_token: make and open MAC'd refresh tokens. */
#include "refresh_token.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "b64url.h"
#include "file_util.h"
#include "secret.h"

#define REFRESH_VERSION 1
#define REFRESH_FAMILY_BYTES 16
#define REFRESH_BODY (1 + REFRESH_FAMILY_BYTES + 8)
#define REFRESH_RAW (REFRESH_BODY + crypto_auth_hmacsha256_BYTES)

static int
read_key(const char *path, struct refresh_key *out, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;
	unsigned char extra;

	if (fd == -1)
		return err_set(e, ERR_CONFIG, "refresh_key: %s: %s", path,
		    strerror(errno));
	n = read(fd, out->k, sizeof(out->k));
	if (n == (ssize_t)sizeof(out->k) && read(fd, &extra, 1) == 0) {
		close(fd);
		return 0;
	}
	close(fd);
	secret_wipe(out, sizeof(*out));
	return err_set(e, ERR_CONFIG,
	    "refresh_key: %s: expected exactly %d bytes", path,
	    REFRESH_KEY_LEN);
}

int
refresh_key_load(
    const char *path, bool create, struct refresh_key *out, struct err *e)
{
	struct refresh_key fresh;
	struct err we = { 0 };
	int rc;

	if (access(path, F_OK) == 0 || !create)
		return read_key(path, out, e);
	secret_random(fresh.k, sizeof(fresh.k));
	/* O_EXCL: a key another issuer wrote meanwhile wins, and is read. */
	rc = file_write_atomic(
	    path, (const char *)fresh.k, sizeof(fresh.k), 0600, false, &we);
	secret_wipe(&fresh, sizeof(fresh));
	if (rc == -1 && access(path, F_OK) != 0)
		return err_set(e, ERR_CONFIG, "refresh_key: %s", we.msg);
	return read_key(path, out, e);
}

void
refresh_family_new(char family_id[STORE_FAMILY_ID_LEN + 1])
{
	unsigned char raw[REFRESH_FAMILY_BYTES];
	char *enc;

	secret_random(raw, sizeof(raw));
	enc = b64url_encode(raw, sizeof(raw));
	if (enc == NULL)
		abort(); /* 16 bytes: only an allocator failure */
	memcpy(family_id, enc, STORE_FAMILY_ID_LEN + 1);
	free(enc);
}

static void
tag_of(const struct refresh_key *k, const unsigned char body[REFRESH_BODY],
    unsigned char tag[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256(tag, body, REFRESH_BODY, k->k);
}

int
refresh_token_make(const struct refresh_key *k, const char *family_id,
    uint64_t generation, char out[REFRESH_TOKEN_LEN + 1])
{
	unsigned char raw[REFRESH_RAW], *fam = NULL;
	size_t fam_len = 0;
	char *enc = NULL;
	struct err e = { 0 };
	int rc = -1;

	if (b64url_decode(family_id, strlen(family_id), &fam, &fam_len, &e) ==
	        -1 ||
	    fam_len != REFRESH_FAMILY_BYTES)
		goto out;
	raw[0] = REFRESH_VERSION;
	memcpy(raw + 1, fam, REFRESH_FAMILY_BYTES);
	for (int i = 0; i < 8; i++)
		raw[1 + REFRESH_FAMILY_BYTES + i] =
		    (unsigned char)(generation >> (56 - 8 * i));
	tag_of(k, raw, raw + REFRESH_BODY);
	if ((enc = b64url_encode(raw, sizeof(raw))) == NULL ||
	    strlen(enc) != REFRESH_TOKEN_LEN)
		goto out;
	memcpy(out, enc, REFRESH_TOKEN_LEN + 1);
	rc = 0;
out:
	secret_wipe(raw, sizeof(raw));
	secret_free_str(enc);
	free(fam);
	return rc;
}

int
refresh_token_open(const struct refresh_key *k, const char *token, size_t len,
    char family_id[STORE_FAMILY_ID_LEN + 1], uint64_t *generation)
{
	unsigned char *raw = NULL, tag[crypto_auth_hmacsha256_BYTES];
	size_t raw_len = 0;
	char *fam = NULL;
	struct err e = { 0 };
	int rc = -1;

	if (len != REFRESH_TOKEN_LEN ||
	    b64url_decode(token, len, &raw, &raw_len, &e) == -1 ||
	    raw_len != REFRESH_RAW || raw[0] != REFRESH_VERSION)
		goto out;
	tag_of(k, raw, tag);
	if (sodium_memcmp(tag, raw + REFRESH_BODY, sizeof(tag)) != 0)
		goto out;
	if ((fam = b64url_encode(raw + 1, REFRESH_FAMILY_BYTES)) == NULL)
		goto out;
	memcpy(family_id, fam, STORE_FAMILY_ID_LEN + 1);
	*generation = 0;
	for (int i = 0; i < 8; i++)
		*generation =
		    (*generation << 8) | raw[1 + REFRESH_FAMILY_BYTES + i];
	rc = 0;
out:
	if (raw != NULL)
		secret_wipe(raw, raw_len);
	free(raw);
	free(fam);
	secret_wipe(tag, sizeof(tag));
	return rc;
}
