/* password_policy: the length rule and a sorted list of common passwords,
 * searched by bsearch. */
#include "password_policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "secret.h"
#include "seed.h"

struct password_policy {
	char **words; /* lower-case, sorted */
	size_t n;
};

static int
cmp_words(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
password_policy_free(struct password_policy *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->words[i]);
	free(p->words);
	free(p);
}

size_t
password_policy_size(const struct password_policy *p)
{
	return p != NULL ? p->n : 0;
}

static void
lower(char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
}

static int
add_word(struct password_policy *p, size_t *cap, const char *w, size_t len)
{
	char **grown;

	if (p->n == *cap) {
		*cap = *cap == 0 ? 1024 : *cap * 2;
		if ((grown = realloc(p->words, *cap * sizeof(*grown))) == NULL)
			return -1;
		p->words = grown;
	}
	if ((p->words[p->n] = strndup(w, len)) == NULL)
		return -1;
	lower(p->words[p->n], len);
	p->n++;
	return 0;
}

int
password_policy_load(const char *path, bool missing_ok,
    struct password_policy **out, bool *missing, struct err *e)
{
	struct password_policy *p = calloc(1, sizeof(*p));
	char *line = NULL;
	size_t line_cap = 0, cap = 0;
	ssize_t n;
	FILE *f = NULL;
	int rc = -1;

	*out = NULL;
	*missing = false;
	if (p == NULL)
		return err_set(e, ERR_NOMEM, "password list");
	if (path == NULL || path[0] == '\0') {
		*out = p;
		return 0;
	}
	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT && missing_ok) {
			*missing = true;
			*out = p;
			return 0;
		}
		err_set(e, ERR_CONFIG, "%s: common_passwords: cannot read: %s",
		    path, strerror(errno));
		goto out;
	}
	while ((n = getline(&line, &line_cap, f)) != -1) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		if (n == 0 || line[0] == '#')
			continue;
		if (add_word(p, &cap, line, (size_t)n) == -1) {
			err_set(e, ERR_NOMEM, "password list");
			goto out;
		}
	}
	if (ferror(f)) {
		err_set(
		    e, ERR_CONFIG, "%s: common_passwords: read error", path);
		goto out;
	}
	if (p->n > 0)
		qsort(p->words, p->n, sizeof(*p->words), cmp_words);
	*out = p;
	p = NULL;
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	free(line);
	password_policy_free(p);
	return rc;
}

/* Characters, not bytes (NIST counts characters): UTF-8 lead bytes. */
static size_t
chars(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

int
password_policy_check(const struct password_policy *p, const char *user,
    size_t user_len, const char *pw, size_t len, struct err *e)
{
	char *key = NULL;
	const char *kp;
	bool common;

	if (chars(pw, len) < PASSWORD_POLICY_MIN_CHARS)
		return err_set(e, ERR_WEAK_PASSWORD,
		    "password shorter than %d characters",
		    PASSWORD_POLICY_MIN_CHARS);
	if (len > SEED_MAX_PASSWORD)
		return err_set(e, ERR_WEAK_PASSWORD,
		    "password longer than %d bytes", SEED_MAX_PASSWORD);
	if (memchr(pw, '\0', len) != NULL)
		return err_set(e, ERR_WEAK_PASSWORD, "password holds a NUL");
	if (user != NULL && user_len == len && strncasecmp(user, pw, len) == 0)
		return err_set(
		    e, ERR_WEAK_PASSWORD, "password is the username");
	if (p == NULL || p->n == 0)
		return 0;
	if ((key = strndup(pw, len)) == NULL)
		return err_set(e, ERR_NOMEM, "password check");
	lower(key, len);
	kp = key;
	common =
	    bsearch(&kp, p->words, p->n, sizeof(*p->words), cmp_words) != NULL;
	secret_wipe(key, len);
	free(key);
	if (common)
		return err_set(e, ERR_WEAK_PASSWORD,
		    "password is on the list of common passwords");
	return 0;
}
