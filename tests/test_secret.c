/* test_secret: secret_equal compares by length then content, and does the
 * content compare with sodium_memcmp, whose time depends only on the
 * length. Timing cannot be measured deterministically in a test, so the
 * constant-time property is checked where it comes from: the executable
 * is linked with -Wl,--wrap=sodium_memcmp (CMakeLists.txt), every call
 * secret_equal makes to it is counted here, and a plain memcmp (early exit
 * on the first differing byte: a timing oracle on a secret) would leave
 * the count at zero. tests/mutation/mutants.txt lists that mutant. */
#include <sodium.h>
#include <string.h>

#include "secret.h"
#include "test.h"

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
test_equal_and_not(void)
{
	static const char a[] = "correct horse battery staple";
	char b[sizeof(a)];

	memcpy(b, a, sizeof(a));
	CHECK(secret_equal(a, sizeof(a) - 1, b, sizeof(a) - 1) == 1);
	/* The last byte and the first byte both count. */
	b[sizeof(a) - 2] ^= 1;
	CHECK(secret_equal(a, sizeof(a) - 1, b, sizeof(a) - 1) == 0);
	memcpy(b, a, sizeof(a));
	b[0] ^= 0x80;
	CHECK(secret_equal(a, sizeof(a) - 1, b, sizeof(a) - 1) == 0);
	/* Lengths first: a prefix is not equal, an embedded NUL counts. */
	CHECK(secret_equal(a, 5, a, 6) == 0);
	CHECK(secret_equal("ab\0c", 4, "ab\0d", 4) == 0);
	CHECK(secret_equal("ab\0c", 4, "ab\0c", 4) == 1);
	CHECK(secret_equal("", 0, "", 0) == 1);
}

static void
test_content_compare_is_constant_time(void)
{
	unsigned char x[64], y[64];

	secret_random(x, sizeof(x));
	memcpy(y, x, sizeof(y));
	wrapped_calls = 0;
	CHECK(secret_equal(x, sizeof(x), y, sizeof(y)) == 1);
	CHECK(wrapped_calls == 1 && wrapped_len == sizeof(x));
	y[0] ^= 1; /* differs at once: memcmp would stop here */
	wrapped_calls = 0;
	CHECK(secret_equal(x, sizeof(x), y, sizeof(y)) == 0);
	CHECK(wrapped_calls == 1 && wrapped_len == sizeof(x));
	/* Positive control of the wrap itself: a direct call is counted. */
	wrapped_calls = 0;
	CHECK(sodium_memcmp(x, x, sizeof(x)) == 0 && wrapped_calls == 1);
}

int
main(void)
{
	if (secret_init() == -1)
		return 1;
	RUN(test_equal_and_not);
	RUN(test_content_compare_is_constant_time);
	return test_report();
}
