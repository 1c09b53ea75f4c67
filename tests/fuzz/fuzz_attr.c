/*
 * fuzz_attr.c - libFuzzer harness for attribute-list decoding (requests
 * from other processes are untrusted).
 */
#include <stdint.h>
#include <unistd.h>
#include "attr.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int     fds[2];
    ATTR_LIST *list = attr_list_alloc();

    if (size > 60000 || pipe(fds) < 0)
        return 0;
    if (write(fds[1], data, size) != (ssize_t) size)
        return 0;
    close(fds[1]);
    STREAM *s = stream_fdopen(fds[0]);
    while (attr_read(s, list) > 0)
        /* void */ ;
    stream_close(s);
    attr_list_free(list);
    return 0;
}
