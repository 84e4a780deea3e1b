/* test.h: the unit-test harness. CHECK records a failure and goes on; the
 * test executable exits non-zero if any CHECK failed. */
#ifndef JWT_TEST_H
#define JWT_TEST_H

#include <stdio.h>
#include <stdlib.h>

static int test_failures;
static int test_checks;

#define CHECK(cond)                                                            \
	do {                                                                   \
		test_checks++;                                                 \
		if (!(cond)) {                                                 \
			test_failures++;                                       \
			(void)fprintf(stderr, "%s:%d: CHECK failed: %s\n",     \
			    __FILE__, __LINE__, #cond);                        \
		}                                                              \
	} while (0)

#define RUN(fn)                                                                \
	do {                                                                   \
		int before_ = test_failures;                                   \
		fn();                                                          \
		(void)fprintf(stderr, "%s %s\n",                               \
		    test_failures == before_ ? "ok  " : "FAIL", #fn);          \
	} while (0)

static inline int
test_report(void)
{
	(void)fprintf(
	    stderr, "%d checks, %d failed\n", test_checks, test_failures);
	return test_failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* Path of a file in the source tree (JWT_SOURCE_DIR is set by ctest). */
static inline const char *
test_source_path(const char *rel, char *buf, size_t len)
{
	const char *root = getenv("JWT_SOURCE_DIR");
	snprintf(buf, len, "%s/%s", root != NULL ? root : ".", rel);
	return buf;
}

#endif
