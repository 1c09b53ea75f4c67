/*
 * fuzz_maildrop.c - libFuzzer harness for the maildrop file grammar that
 * postdrop and pickup enforce (maildrop files are written by any local
 * user and are untrusted).
 */
#include <stdint.h>
#include <unistd.h>
#include "maildrop.h"
#include "record.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int     fds[2];
    VSTRING *buf = vstring_alloc(REC_MAX_DEFAULT);
    MAILDROP_CHECK check;
    int     type;

    if (size > 60000 || pipe(fds) < 0)
        return 0;
    if (write(fds[1], data, size) != (ssize_t) size)
        return 0;
    close(fds[1]);
    STREAM *s = stream_fdopen(fds[0]);
    maildrop_check_init(&check, 2048);
    while ((type = rec_get(s, buf, maildrop_record_max(&check))) >= 0)
        if (maildrop_check(&check, type, STR(buf), LEN(buf)) < 0)
            break;
    if (type == REC_TYPE_EOF)
        (void) maildrop_check_end(&check);
    stream_close(s);
    vstring_free(buf);
    return 0;
}
