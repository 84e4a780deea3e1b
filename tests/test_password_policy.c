/* test_password_policy: NIST SP 800-63B for new passwords: 8 characters
 * (not bytes), long passphrases accepted, the shipped list of common
 * passwords (case-insensitive), not the username. */
#include <stdio.h>
#include <string.h>

#include "password_policy.h"
#include "test.h"

static int
check(const struct password_policy *p, const char *user, const char *pw)
{
	struct err e = { 0 };
	int rc =
	    password_policy_check(p, user, strlen(user), pw, strlen(pw), &e);

	CHECK(rc == 0 || e.code == ERR_WEAK_PASSWORD);
	return rc;
}

static void
test_shipped_list(void)
{
	char path[512];
	struct password_policy *p = NULL;
	struct err e = { 0 };
	bool missing = true;
	char long_pw[1001];

	test_source_path("config/common-passwords.txt", path, sizeof(path));
	CHECK(password_policy_load(path, false, &p, &missing, &e) == 0);
	CHECK(!missing && password_policy_size(p) > 500);
	CHECK(check(p, "u", "password") == -1);
	CHECK(check(p, "u", "PassWord") == -1);
	CHECK(check(p, "u", "12345678") == -1);
	CHECK(check(p, "u", "short") == -1);
	CHECK(check(p, "u", "seven77") == -1);
	CHECK(check(p, "alice-long", "Alice-Long") == -1);
	/* Positive controls: eight characters not on the list; a long
	 * passphrase; eight characters of more bytes than that. */
	CHECK(check(p, "u", "tq8-vmx!") == 0);
	memset(long_pw, 'x', sizeof(long_pw) - 1);
	long_pw[sizeof(long_pw) - 1] = '\0';
	memcpy(long_pw, "correct horse", 13);
	CHECK(check(p, "u", long_pw) == 0);
	CHECK(check(p, "u", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9") == -1);
	CHECK(check(p, "u", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9zzzz") == 0);
	password_policy_free(p);
}

static void
test_missing_list(void)
{
	struct password_policy *p = NULL;
	struct err e = { 0 };
	bool missing = false;

	CHECK(password_policy_load(
	          "/nonexistent/list", false, &p, &missing, &e) == -1);
	CHECK(e.code == ERR_CONFIG);
	e = (struct err){ 0 };
	CHECK(password_policy_load(
	          "/nonexistent/list", true, &p, &missing, &e) == 0);
	CHECK(missing && password_policy_size(p) == 0);
	CHECK(check(p, "u", "password") == 0); /* length only */
	password_policy_free(p);
}

int
main(void)
{
	RUN(test_shipped_list);
	RUN(test_missing_list);
	return test_report();
}
