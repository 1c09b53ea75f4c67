/*
 * fuzz_record.c - libFuzzer harness for the queue file record reader
 * (queue files are untrusted input when they come from maildrop/).
 */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include "record.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int     fds[2];
    VSTRING *buf = vstring_alloc(REC_MAX_DEFAULT);

    if (size > 60000 || pipe(fds) < 0)
        return 0;
    if (write(fds[1], data, size) != (ssize_t) size)
        return 0;
    close(fds[1]);
    STREAM *s = stream_fdopen(fds[0]);
    while (rec_get(s, buf, 4096) >= 0)
        /* void */ ;
    stream_close(s);
    vstring_free(buf);
    return 0;
}
