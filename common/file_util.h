/* file_util: durable, all-or-nothing file writes (keys, key sets). */
#ifndef JWT_FILE_UTIL_H
#define JWT_FILE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* Writes data to path with mode. Without overwrite the file is created
 * with O_EXCL (ERR_IO "already exists" if it does); with overwrite a
 * temporary file in the same directory is renamed over path. Either way
 * the data is fsync'd and a failure leaves no partial file. */
int file_write_atomic(const char *path, const char *data, size_t len,
    mode_t mode, bool overwrite, struct err *e);

/* Makes a completed create or rename in path's directory durable; best
 * effort (what is visible is not lost by a failure here). */
void file_sync_dir(const char *path);

#endif
