/* key_dir: listing and loading the published keys of a key directory. */
#include "key_dir.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file_util.h"

int
key_dir_path(
    const char *dir, const char *name, char *buf, size_t len, struct err *e)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= len)
		return err_set(e, ERR_CONFIG, "%s: path too long", dir);
	return 0;
}

static int
key_dir_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
key_dir_is_pem(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 4 && strcmp(name + n - 4, ".pem") == 0;
}

void
key_dir_list_free(char **names, size_t n)
{
	for (size_t i = 0; i < n && names != NULL; i++)
		free(names[i]);
	free(names);
}

int
key_dir_list(const char *dir, char ***names, size_t *n, struct err *e)
{
	DIR *d = NULL;
	struct dirent *ent;
	char **list = NULL;
	size_t count = 0;
	int rc = -1;

	*names = NULL;
	*n = 0;
	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return 0;
		return err_set(e, ERR_IO, "%s: %s", dir, strerror(errno));
	}
	if ((list = calloc(KEY_DIR_MAX_FILES, sizeof(*list))) == NULL) {
		err_set(e, ERR_NOMEM, "key list");
		goto out;
	}
	while ((ent = readdir(d)) != NULL) {
		if (!key_dir_is_pem(ent->d_name))
			continue;
		/* A directory that grew past any sane rotation history is
		 * more likely a mistake than a key set. */
		if (count == KEY_DIR_MAX_FILES) {
			err_set(e, ERR_CONFIG, "%s: more than %d key files",
			    dir, KEY_DIR_MAX_FILES);
			goto out;
		}
		if ((list[count] = strdup(ent->d_name)) == NULL) {
			err_set(e, ERR_NOMEM, "key list");
			goto out;
		}
		count++;
	}
	/* readdir order is the file system's; the JWKS order should not
	 * change from one start to the next. */
	qsort(list, count, sizeof(*list), key_dir_cmp);
	*names = list;
	*n = count;
	list = NULL;
	rc = 0;
out:
	key_dir_list_free(list, count);
	closedir(d);
	return rc;
}

int
key_dir_add_published(const char *dir, struct jwks *set, struct err *e)
{
	struct jws_key *k = NULL;
	char **names = NULL;
	char path[4096];
	size_t n = 0;
	int rc = -1;

	if (key_dir_list(dir, &names, &n, e) == -1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (key_dir_path(dir, names[i], path, sizeof(path), e) == -1 ||
		    (k = jwk_load_public_pem(path, e)) == NULL)
			goto out;
		if (key_dir_apply_kid(path, k, e) == -1) {
			jwk_free(k);
			k = NULL;
			goto out;
		}
		if (jwks_find(set, k->kid, strlen(k->kid)) != NULL) {
			jwk_free(k);
			k = NULL;
			continue;
		}
		if (jwks_add(set, k, e) == -1) {
			k = NULL; /* jwks_add took it */
			goto out;
		}
		k = NULL;
	}
	rc = 0;
out:
	key_dir_list_free(names, n);
	return rc;
}

bool
key_dir_kid_valid(const char *kid)
{
	size_t n = strlen(kid);

	/* Not "." or "..", nor a leading '-' an option parser would take. */
	if (n == 0 || n > JWK_KID_MAX || strcmp(kid, ".") == 0 ||
	    strcmp(kid, "..") == 0 || kid[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = kid[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		        c == '-'))
			return false;
	}
	return true;
}

int
key_dir_kid_path(const char *pem, char *buf, size_t len, struct err *e)
{
	size_t n = strlen(pem);
	int w;

	if (n > 4 && strcmp(pem + n - 4, ".pem") == 0)
		w = snprintf(buf, len, "%.*s.kid", (int)(n - 4), pem);
	else
		w = snprintf(buf, len, "%s.kid", pem);
	if (w < 0 || (size_t)w >= len)
		return err_set(e, ERR_CONFIG, "%s: path too long", pem);
	return 0;
}

int
key_dir_apply_kid(const char *pem, struct jws_key *k, struct err *e)
{
	char path[4096], kid[JWK_KID_MAX + 2];
	FILE *f;
	size_t n;

	if (key_dir_kid_path(pem, path, sizeof(path), e) == -1)
		return -1;
	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return 0;
		return err_set(
		    e, ERR_KEY, "%s: cannot read: %s", path, strerror(errno));
	}
	n = fread(kid, 1, sizeof(kid) - 1, f);
	fclose(f);
	kid[n] = '\0';
	while (n > 0 && (kid[n - 1] == '\n' || kid[n - 1] == '\r'))
		kid[--n] = '\0';
	if (!key_dir_kid_valid(kid))
		return err_set(e, ERR_KEY,
		    "%s: not a kid (1..%d of A-Z a-z 0-9 . _ -)", path,
		    JWK_KID_MAX);
	memcpy(k->kid, kid, n + 1);
	return 0;
}

int
key_dir_write_kid(const char *pem, const char *kid, struct err *e)
{
	char path[4096], text[JWK_KID_MAX + 2];
	int n;

	if (key_dir_kid_path(pem, path, sizeof(path), e) == -1)
		return -1;
	if (kid == NULL) {
		if (unlink(path) == -1 && errno != ENOENT)
			return err_set(
			    e, ERR_IO, "%s: %s", path, strerror(errno));
		return 0;
	}
	n = snprintf(text, sizeof(text), "%s\n", kid);
	return file_write_atomic(path, text, (size_t)n, 0644, true, e);
}
