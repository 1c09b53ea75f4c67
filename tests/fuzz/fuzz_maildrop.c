/*
 * fuzz_maildrop.c - libFuzzer harness for the maildrop file grammar that
 * postdrop and pickup enforce (maildrop files are written by any local
 * user and are untrusted).
 */
#include "fuzz_util.h"
#include "maildrop.h"
#include "record.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    STREAM *s = fuzz_stream(data, size);
    VSTRING *buf;
    MAILDROP_CHECK check;
    int     type;

    if (s == NULL)
        return 0;
    buf = vstring_alloc(REC_MAX_DEFAULT);
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
