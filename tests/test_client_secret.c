/* test_client_secret: generated client secrets (256 bits, base64url),
 * their stored hash, and the constant-time check that also answers for
 * an unknown client. */
#include <sodium.h>
#include <string.h>

#include "b64url.h"
#include "client_secret.h"
#include "secret.h"
#include "test.h"

/* Linked with -Wl,--wrap=sodium_memcmp (CMakeLists.txt): the compare of
 * the hashes is counted, a plain memcmp would leave the count at zero. */
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

static void
test_new_secrets(void)
{
	char a[CLIENT_SECRET_LEN + 1], b[CLIENT_SECRET_LEN + 1];

	client_secret_new(a);
	client_secret_new(b);
	CHECK(strlen(a) == CLIENT_SECRET_LEN);
	CHECK(strcmp(a, b) != 0);
	/* 43 base64url characters carry 32 bytes: 256 bits. */
	CHECK(b64url_encoded_len(CLIENT_SECRET_BYTES) == CLIENT_SECRET_LEN);
	CHECK(CLIENT_SECRET_BYTES * 8 >= 256);
}

static void
test_hash_and_verify(void)
{
	char s[CLIENT_SECRET_LEN + 1];
	char h[CLIENT_SECRET_HASH_LEN + 1];

	client_secret_new(s);
	client_secret_hash(s, strlen(s), h);
	CHECK(strlen(h) == CLIENT_SECRET_HASH_LEN);
	CHECK(strncmp(h, CLIENT_SECRET_HASH_PREFIX,
	          strlen(CLIENT_SECRET_HASH_PREFIX)) == 0);
	CHECK(strstr(h, s) == NULL);
	CHECK(client_secret_verify(h, s, strlen(s)));
	/* Lengths count: a prefix or an extended secret is another. */
	CHECK(!client_secret_verify(h, s, strlen(s) - 1));
	s[0] ^= 1;
	CHECK(!client_secret_verify(h, s, strlen(s)));
	/* No client, or a stored value of the wrong shape: false. */
	CHECK(!client_secret_verify(NULL, s, strlen(s)));
	CHECK(!client_secret_verify("blake2b256$00", s, strlen(s)));
}

/* Known client or not, right secret or not: one constant-time compare of
 * the whole stored hash. */
static void
test_compare_is_constant_time(void)
{
	char s[CLIENT_SECRET_LEN + 1];
	char h[CLIENT_SECRET_HASH_LEN + 1];

	client_secret_new(s);
	client_secret_hash(s, strlen(s), h);
	wrapped_calls = 0;
	CHECK(client_secret_verify(h, s, strlen(s)));
	CHECK(wrapped_calls == 1 && wrapped_len == CLIENT_SECRET_HASH_LEN);
	wrapped_calls = 0;
	CHECK(!client_secret_verify(h, "x", 1));
	CHECK(wrapped_calls == 1 && wrapped_len == CLIENT_SECRET_HASH_LEN);
	wrapped_calls = 0;
	CHECK(!client_secret_verify(NULL, s, strlen(s)));
	CHECK(wrapped_calls == 1 && wrapped_len == CLIENT_SECRET_HASH_LEN);
}

int
main(void)
{
	if (secret_init() == -1)
		return 1;
	RUN(test_new_secrets);
	RUN(test_hash_and_verify);
	RUN(test_compare_is_constant_time);
	return test_report();
}
