/*
 * fuzz_scache.c - libFuzzer harness for the connection cache server's
 * request handling (scache/scache_service.c: requests come from other
 * processes and are untrusted) and its store (scache/scache_table.c).
 * Each request list is handled; a save_endp that is accepted stores a
 * descriptor of /dev/null (as if the client had sent one), a find that
 * hits gives one back, which is closed; the clock moves one second per
 * request so that entries also expire. At the end everything expires,
 * so a leaked entry or descriptor shows.
 */
#include <fcntl.h>

#include "fuzz_util.h"
#include "attr.h"
#include "../../scache/scache_table.c"
#include "../../scache/scache_service.c"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    STREAM *s = fuzz_stream(data, size);
    ATTR_LIST *req, *reply;
    double  now = 1000;
    int     action, fd;

    if (s == NULL)
        return 0;
    scache_service_init(5, 5);
    req = attr_list_alloc();
    reply = attr_list_alloc();
    while (attr_read(s, req) > 0) {
        scache_handle(req, reply, now, &action, &fd);
        if (action == SCACHE_ACT_RECV && (fd = open("/dev/null", O_RDONLY)) >= 0)
            scache_handle_fd(req, fd, now);
        else if (action == SCACHE_ACT_SEND)
            close(fd);
        now += 1;
        (void) scache_table_expire(now);
    }
    (void) scache_table_expire(now + 1e6);
    stream_close(s);
    attr_list_free(req);
    attr_list_free(reply);
    return 0;
}
