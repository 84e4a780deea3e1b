/* test_refresh_token: the MAC'd refresh token (auth_service/
 * refresh_token.c): round trip, every tampered byte refused, another
 * key's token refused, another format version refused even with a valid
 * tag, the tag compared in constant time, the key file made private and
 * checked. Linked with -Wl,--wrap=sodium_memcmp (CMakeLists.txt): the
 * calls refresh_token_open makes are counted (see test_secret.c). */
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "b64url.h"
#include "refresh_token.h"
#include "secret.h"
#include "test.h"

/* The token's layout (refresh_token.h): version, family, generation, tag. */
enum { BODY_LEN = 1 + 16 + 8, RAW_LEN = BODY_LEN + 32 };

int __real_sodium_memcmp(const void *b1, const void *b2, size_t len);
int __wrap_sodium_memcmp(const void *b1, const void *b2, size_t len);

static int wrapped_calls;
static size_t wrapped_len;

int
__wrap_sodium_memcmp(const void *b1, const void *b2, size_t len)
{
	wrapped_calls++;
	wrapped_len = len;
	return __real_sodium_memcmp(b1, b2, len);
}

static char dir[] = "/tmp/test_refresh_token.XXXXXX";

static void
key_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void
test_round_trip(void)
{
	struct refresh_key k;
	char fam[STORE_FAMILY_ID_LEN + 1], got[STORE_FAMILY_ID_LEN + 1];
	char tok[REFRESH_TOKEN_LEN + 1];
	uint64_t gen = 0;

	secret_random(k.k, sizeof(k.k));
	refresh_family_new(fam);
	CHECK(strlen(fam) == STORE_FAMILY_ID_LEN);
	for (uint64_t g = 0; g < 3; g++) {
		CHECK(refresh_token_make(&k, fam, g * 1000003, tok) == 0);
		CHECK(strlen(tok) == REFRESH_TOKEN_LEN);
		CHECK(refresh_token_open(&k, tok, strlen(tok), got, &gen) == 0);
		CHECK(strcmp(got, fam) == 0 && gen == g * 1000003);
	}
	CHECK(refresh_token_make(&k, "not-a-family", 1, tok) == -1);
}

/* Flipping any character of the token makes it unknown. */
static void
test_tampering_refused(void)
{
	struct refresh_key k, other;
	char fam[STORE_FAMILY_ID_LEN + 1], got[STORE_FAMILY_ID_LEN + 1];
	char tok[REFRESH_TOKEN_LEN + 1], bad[REFRESH_TOKEN_LEN + 2];
	uint64_t gen;
	int refused = 0;

	secret_random(k.k, sizeof(k.k));
	secret_random(other.k, sizeof(other.k));
	refresh_family_new(fam);
	CHECK(refresh_token_make(&k, fam, 7, tok) == 0);
	for (size_t i = 0; i < REFRESH_TOKEN_LEN; i++) {
		memcpy(bad, tok, sizeof(tok));
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		refused += refresh_token_open(
		               &k, bad, REFRESH_TOKEN_LEN, got, &gen) == -1;
	}
	CHECK(refused == REFRESH_TOKEN_LEN);
	/* Another key, a short or long token, padding, a NUL inside. */
	CHECK(refresh_token_open(&other, tok, REFRESH_TOKEN_LEN, got, &gen) ==
	      -1);
	CHECK(refresh_token_open(&k, tok, REFRESH_TOKEN_LEN - 1, got, &gen) ==
	      -1);
	snprintf(bad, sizeof(bad), "%s=", tok);
	CHECK(refresh_token_open(&k, bad, REFRESH_TOKEN_LEN + 1, got, &gen) ==
	      -1);
	memcpy(bad, tok, sizeof(tok));
	bad[10] = '\0';
	CHECK(refresh_token_open(&k, bad, REFRESH_TOKEN_LEN, got, &gen) == -1);
	CHECK(refresh_token_open(&k, "", 0, got, &gen) == -1);
}

/* A token of another version, with a tag that is valid for its bytes
 * under the right key: refused by its version, not by luck. */
static void
test_other_version_refused(void)
{
	struct refresh_key k;
	char fam[STORE_FAMILY_ID_LEN + 1], got[STORE_FAMILY_ID_LEN + 1];
	char tok[REFRESH_TOKEN_LEN + 1], *enc;
	unsigned char *raw = NULL;
	size_t raw_len = 0;
	struct err e = { 0 };
	uint64_t gen;

	secret_random(k.k, sizeof(k.k));
	refresh_family_new(fam);
	CHECK(refresh_token_make(&k, fam, 3, tok) == 0);
	CHECK(b64url_decode(tok, strlen(tok), &raw, &raw_len, &e) == 0);
	CHECK(raw_len == RAW_LEN);
	if (raw_len != RAW_LEN)
		return;
	/* Positive control: the same bytes re-tagged open. */
	crypto_auth_hmacsha256(raw + BODY_LEN, raw, BODY_LEN, k.k);
	enc = b64url_encode(raw, raw_len);
	CHECK(enc != NULL && strcmp(enc, tok) == 0);
	free(enc);
	raw[0] ^= 1;
	crypto_auth_hmacsha256(raw + BODY_LEN, raw, BODY_LEN, k.k);
	enc = b64url_encode(raw, raw_len);
	CHECK(enc != NULL && strlen(enc) == REFRESH_TOKEN_LEN);
	CHECK(enc != NULL &&
	      refresh_token_open(&k, enc, strlen(enc), got, &gen) == -1);
	free(enc);
	free(raw);
}

/* The tag is compared with sodium_memcmp over all its 32 bytes, also when
 * it differs at its first byte (where memcmp would stop). */
static void
test_tag_compare_is_constant_time(void)
{
	struct refresh_key k;
	char fam[STORE_FAMILY_ID_LEN + 1], got[STORE_FAMILY_ID_LEN + 1];
	char tok[REFRESH_TOKEN_LEN + 1];
	uint64_t gen;

	secret_random(k.k, sizeof(k.k));
	refresh_family_new(fam);
	CHECK(refresh_token_make(&k, fam, 9, tok) == 0);
	wrapped_calls = 0;
	CHECK(refresh_token_open(&k, tok, strlen(tok), got, &gen) == 0);
	CHECK(wrapped_calls == 1 && wrapped_len == 32);
	tok[REFRESH_TOKEN_LEN - 1] =
	    tok[REFRESH_TOKEN_LEN - 1] == 'A' ? 'Q' : 'A';
	wrapped_calls = 0;
	CHECK(refresh_token_open(&k, tok, strlen(tok), got, &gen) == -1);
	CHECK(wrapped_calls == 1 && wrapped_len == 32);
}

static void
test_key_file(void)
{
	char path[300], short_path[300];
	struct refresh_key a, b;
	struct err e = { 0 };
	struct stat st;
	int fd;

	key_path("refresh.key", path, sizeof(path));
	CHECK(refresh_key_load(path, false, &a, &e) == -1);
	CHECK(e.code == ERR_CONFIG && strstr(e.msg, "refresh_key") != NULL);
	e = (struct err){ 0 };
	CHECK(refresh_key_load(path, true, &a, &e) == 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(st.st_size == REFRESH_KEY_LEN);
	/* The same key next time: tokens survive a restart. */
	CHECK(refresh_key_load(path, true, &b, &e) == 0);
	CHECK(memcmp(a.k, b.k, sizeof(a.k)) == 0);
	key_path("short.key", short_path, sizeof(short_path));
	fd = open(short_path, O_WRONLY | O_CREAT, 0600);
	CHECK(fd != -1 && write(fd, "short", 5) == 5);
	close(fd);
	e = (struct err){ 0 };
	CHECK(refresh_key_load(short_path, true, &b, &e) == -1);
	CHECK(strstr(e.msg, "32 bytes") != NULL);
}

int
main(void)
{
	char cmd[300];

	if (secret_init() == -1 || mkdtemp(dir) == NULL)
		return 1;
	RUN(test_round_trip);
	RUN(test_tampering_refused);
	RUN(test_other_version_refused);
	RUN(test_tag_compare_is_constant_time);
	RUN(test_key_file);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return test_report();
}
