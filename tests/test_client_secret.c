/* test_client_secret: generated client secrets (256 bits, base64url),
 * their stored hash, and the constant-time check that also answers for
 * an unknown client. */
#include <string.h>

#include "b64url.h"
#include "client_secret.h"
#include "secret.h"
#include "test.h"

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

int
main(void)
{
	if (secret_init() == -1)
		return 1;
	RUN(test_new_secrets);
	RUN(test_hash_and_verify);
	return test_report();
}
