/*
 * fuzz_util.h - helpers shared by the libFuzzer harnesses: turn the
 * fuzzer's bytes into a STREAM (through a pipe) or into a scratch file.
 *
 * fuzz_stream(data, size): a read stream holding exactly the bytes, or
 * NULL (input too big for a pipe buffer, or pipe failure).
 * fuzz_tempfile(data, size, path, pathlen): writes the bytes to a new
 * /tmp file and stores its name in path; 0 or -1. The caller unlinks it.
 */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream.h"

#define FUZZ_PIPE_MAX 60000             /* below the default pipe buffer */

static inline STREAM *
fuzz_stream(const uint8_t *data, size_t size)
{
    int     fds[2];

    if (size > FUZZ_PIPE_MAX || pipe(fds) < 0)
        return NULL;
    if (size > 0 && write(fds[1], data, size) != (ssize_t) size) {
        close(fds[0]);
        close(fds[1]);
        return NULL;
    }
    close(fds[1]);
    return stream_fdopen(fds[0]);
}

static inline int
fuzz_tempfile(const uint8_t *data, size_t size, char *path, size_t pathlen)
{
    int     fd;

    snprintf(path, pathlen, "/tmp/fuzz_posthorn.XXXXXX");
    if ((fd = mkstemp(path)) < 0)
        return -1;
    if (size > 0 && write(fd, data, size) != (ssize_t) size) {
        close(fd);
        unlink(path);
        return -1;
    }
    close(fd);
    return 0;
}

#endif
