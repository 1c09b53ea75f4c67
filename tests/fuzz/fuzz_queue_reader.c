/*
 * fuzz_queue_reader.c - libFuzzer harness for the queue file readers of
 * showq (showq_read_queue_file() in showq/showq_read.c) and postcat
 * (postcat_file() in postcat/postcat_print.c). Queue files are written by
 * cleanup, but maildrop files by any local user; the readers must stay
 * bounded on corrupt files (bad offsets, truncated records).
 */
#include <fcntl.h>

#include "../../showq/showq_read.c"
#include "../../postcat/postcat_print.c"
#include "fuzz_util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    char    path[64];
    VSTRING *buf;
    SHOWQ_MSG m;
    STREAM *fp, *out;
    int     fd;

    if (!init) {
        msg_init("fuzz", MSG_NOSYSLOG);
        init = 1;
    }
    if (size > 200000 || fuzz_tempfile(data, size, path, sizeof(path)) < 0)
        return 0;
    if ((fd = open(path, O_RDONLY)) >= 0) {
        fp = stream_fdopen(fd);
        buf = vstring_alloc(100);
        showq_msg_init(&m);
        (void) showq_read_queue_file(fp, buf, &m);
        showq_msg_free(&m);
        vstring_free(buf);
        stream_close(fp);
    }
    if ((fd = open(path, O_RDONLY)) >= 0) {
        fp = stream_fdopen(fd);
        out = stream_open("/dev/null", O_WRONLY, 0);
        if (out != NULL) {
            (void) postcat_file(fp, path, size ? data[0] & 0xf : 0, out);
            stream_close(out);
        }
        stream_close(fp);
    }
    unlink(path);
    return 0;
}
