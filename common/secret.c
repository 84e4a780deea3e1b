/* secret: thin wrappers over libsodium so every secret is handled one way. */
#include "secret.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int
secret_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

int
secret_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	if (alen != blen)
		return 0;
	if (alen == 0)
		return 1;
	return sodium_memcmp(a, b, alen) == 0;
}

void
secret_wipe(void *p, size_t len)
{
	if (p != NULL)
		sodium_memzero(p, len);
}

void
secret_free_str(char *s)
{
	if (s == NULL)
		return;
	sodium_memzero(s, strlen(s));
	free(s);
}

void
secret_random(void *buf, size_t len)
{
	randombytes_buf(buf, len);
}
