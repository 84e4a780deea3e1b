/* key_dir: listing and loading the published keys of a key directory. */
#include "key_dir.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
