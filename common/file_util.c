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

/* Without overwrite the file is created with O_EXCL, so an existing key is
 * never clobbered, even by a concurrent writer. With overwrite the data
 * goes to a temporary file in the same directory that is renamed over the
 * target: readers see the old file or the new one, never half of one. */
int
file_write_atomic(const char *path, const char *data, size_t len, mode_t mode,
    bool overwrite, struct err *e)
{
	char tmp[PATH_MAX];
	const char *target = path;
	int fd = -1, rc = -1;
	bool created = false;

	if (!overwrite) {
		fd = open(path,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd == -1) {
			if (errno == EEXIST)
				err_set(e, ERR_IO,
				    "%s: already exists, not "
				    "overwritten",
				    path);
			else
				err_set(
				    e, ERR_IO, "%s: %s", path, strerror(errno));
			goto out;
		}
	} else {
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >=
		    sizeof(tmp)) {
			err_set(e, ERR_IO, "%s: path too long", path);
			goto out;
		}
		/* mkostemp creates the file 0600; only then is it widened. */
		if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
			err_set(e, ERR_IO, "%s: %s", tmp, strerror(errno));
			goto out;
		}
		target = tmp;
		if (fchmod(fd, mode) == -1) {
			err_set(e, ERR_IO, "%s: %s", tmp, strerror(errno));
			created = true;
			goto out;
		}
	}
	created = true;
	if (file_write_all(fd, data, len) == -1 || fsync(fd) == -1) {
		err_set(e, ERR_IO, "%s: %s", target, strerror(errno));
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		err_set(e, ERR_IO, "%s: %s", target, strerror(errno));
		goto out;
	}
	fd = -1;
	if (overwrite && rename(tmp, path) == -1) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	file_sync_dir(path);
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	/* Never leave a partial key file behind. */
	if (rc == -1 && created)
		unlink(target);
	return rc;
}
