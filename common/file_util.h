/* file_util: durable, all-or-nothing file writes (keys, key sets). */
#ifndef JWT_FILE_UTIL_H
#define JWT_FILE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* Writes data to path with mode: a temporary file in the same directory,
 * fsync'd, then renamed over path (overwrite) or linked to it (without
 * overwrite: ERR_IO "already exists" if it does). Either way a reader
 * never sees a partial file and a failure leaves none behind. */
int file_write_atomic(const char *path, const char *data, size_t len,
    mode_t mode, bool overwrite, struct err *e);

/* Makes a completed create or rename in path's directory durable; best
 * effort (what is visible is not lost by a failure here). */
void file_sync_dir(const char *path);

#endif
