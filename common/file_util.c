/* file_util: writing a file so that readers never see half of it, and
 * so that an existing file is never clobbered unless asked. */
#include "file_util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
file_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Makes a completed rename durable; a failure here loses nothing that is
 * already visible, so it is not an error. */
void
file_sync_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	(void)fsync(fd);
	close(fd);
}

/* The data goes to a temporary file in the same directory, written and
 * synced, and only then takes the target's name: readers see no file, or
 * the whole one, never half of one (two issuers starting at once on one
 * key directory: one writes the refresh key while the other reads it).
 * With overwrite the name is taken by rename over the old file; without,
 * by link(2), which fails if the name exists, so an existing key is never
 * clobbered, even by a concurrent writer. */
int
file_write_atomic(const char *path, const char *data, size_t len, mode_t mode,
    bool overwrite, struct err *e)
{
	char tmp[PATH_MAX];
	int fd = -1, rc = -1;
	bool created = false;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >=
	    sizeof(tmp))
		return err_set(e, ERR_IO, "%s: path too long", path);
	/* mkostemp creates the file 0600; only then is it widened. */
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		return err_set(e, ERR_IO, "%s: %s", tmp, strerror(errno));
	created = true;
	if (fchmod(fd, mode) == -1 || file_write_all(fd, data, len) == -1 ||
	    fsync(fd) == -1) {
		err_set(e, ERR_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		err_set(e, ERR_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (overwrite) {
		if (rename(tmp, path) == -1) {
			err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
			goto out;
		}
		created = false;
	} else if (link(tmp, path) == -1) {
		if (errno == EEXIST)
			err_set(e, ERR_IO,
			    "%s: already exists, not overwritten", path);
		else
			err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	file_sync_dir(path);
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	/* Never leave a partial (or, after link, a second) name behind. */
	if (created)
		unlink(tmp);
	return rc;
}
