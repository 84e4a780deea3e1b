/* client_secret: makes, hashes and checks client secrets. */
#include "client_secret.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "secret.h"

void
client_secret_new(char out[CLIENT_SECRET_LEN + 1])
{
	unsigned char raw[CLIENT_SECRET_BYTES];
	char *text;

	secret_random(raw, sizeof(raw));
	text = b64url_encode(raw, sizeof(raw));
	secret_wipe(raw, sizeof(raw));
	if (text == NULL || strlen(text) != CLIENT_SECRET_LEN)
		abort(); /* out of memory making 43 bytes: nothing to do */
	memcpy(out, text, CLIENT_SECRET_LEN + 1);
	secret_free_str(text);
}

void
client_secret_hash(
    const char *secret, size_t len, char out[CLIENT_SECRET_HASH_LEN + 1])
{
	unsigned char h[32];
	size_t p = sizeof(CLIENT_SECRET_HASH_PREFIX) - 1;

	crypto_generichash(
	    h, sizeof(h), (const unsigned char *)secret, len, NULL, 0);
	memcpy(out, CLIENT_SECRET_HASH_PREFIX, p);
	sodium_bin2hex(out + p, 65, h, sizeof(h));
}

bool
client_secret_verify(const char *stored, const char *secret, size_t len)
{
	/* No client: a hash nobody's secret has, compared all the same. */
	static const char dummy[] = CLIENT_SECRET_HASH_PREFIX
	    "0000000000000000000000000000000000000000000000000000000000000000";
	char h[CLIENT_SECRET_HASH_LEN + 1];
	bool known = stored != NULL && strlen(stored) == CLIENT_SECRET_HASH_LEN;
	int same;

	client_secret_hash(secret, len, h);
	same = sodium_memcmp(h, known ? stored : dummy, CLIENT_SECRET_HASH_LEN);
	secret_wipe(h, sizeof(h));
	return known && same == 0;
}
