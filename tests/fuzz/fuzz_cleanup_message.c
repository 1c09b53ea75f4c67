/*
 * fuzz_cleanup_message.c - libFuzzer harness for cleanup's content
 * processing (cleanup/cleanup_message.c: header joining and folding,
 * added headers, address header rewriting; cleanup/cleanup_checks.c:
 * MIME structure, header/body checks), fed through cleanup_record() the
 * way tests/unit/test_cleanup_message.c does. Message content is the
 * most exposed untrusted input of all.
 *
 * Input: the message; each '\n' ends a NORM record, a line starting with
 * byte 0x01 is sent as a CONT record instead (a long line piece).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../cleanup/cleanup_envelope.c"
#include "../../cleanup/cleanup_message.c"
#include "../../cleanup/cleanup_out.c"
#include "../../cleanup/cleanup_map.c"
#include "../../cleanup/cleanup_checks.c"
#include "../../cleanup/cleanup_bounce.c"
#include "../../cleanup/cleanup_params.c"
#include "../../cleanup/cleanup_milter.c"
#include "../../cleanup/cleanup_milter_edit.c"
#include "mail_params.h"
#include "fuzz_util.h"

static const char fuzz_checks[] =
    "/^Subject:.*warnme/ WARN fuzz\n"
    "/^X-Replace:(.*)/ REPLACE X-Replaced:$1\n"
    "/^X-Prepend:/ PREPEND X-Added: yes\n"
    "/^X-Ignore:/ IGNORE\n"
    "/^Content-Type:.*fuzzhold/ HOLD\n"
    "/^body-redirect/ REDIRECT a@b.example\n"
    "/^body-replace(.*)/ REPLACE new$1$1\n";

static int
fuzz_rewrite(const char *rule, const char *addr, VSTRING *out)
{
    (void) rule;
    vstring_strcpy(out, addr);
    if (strchr(addr, '@') == NULL)
        vstring_sprintf_append(out, "@example.com");
    return 0;
}

static void
fuzz_init(void)
{
    char    path[64];
    char   *conf;

    msg_init("cleanup", MSG_NOSYSLOG);
    if (fuzz_tempfile((const uint8_t *) fuzz_checks, sizeof(fuzz_checks) - 1,
                      path, sizeof(path)) < 0)
        abort();
    conf = mem_printf("myhostname = mail.example.com\nmydomain = example.com\n"
                      "myorigin = $mydomain\nheader_size_limit = 1000\n"
                      "line_length_limit = 200\nmime_nesting_limit = 5\n"
                      "header_checks = regexp:%s\nmime_header_checks = regexp:%s\n"
                      "nested_header_checks = regexp:%s\nbody_checks = regexp:%s\n",
                      path, path, path, path);
    config_reset();
    config_load_text(conf, "fuzz");
    mem_free(conf);
    mail_params_init();
    cleanup_params_init();
    cleanup_checks_load();
    unlink(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    char    path[] = "/tmp/fuzz_cleanup.XXXXXX";
    CLEANUP_STATE *state;
    int     fd, st = 0;
    size_t  max, off = 0;

    if (!init) {
        fuzz_init();
        init = 1;
    }
    if ((fd = mkstemp(path)) < 0)
        return 0;
    unlink(path);
    state = cleanup_state_alloc("3F2A81C0B7", stream_fdopen(fd));
    state->rewrite = fuzz_rewrite;
    state->flags |= CLEANUP_FLAG_FILTER;
    if (cleanup_start(state) == 0
        && cleanup_record(state, REC_TYPE_TIME, "1795000000 123", 14) == 0
        && cleanup_record(state, REC_TYPE_FROM, "sender", 6) == 0
        && cleanup_record(state, REC_TYPE_RCPT, "u@x.example", 11) == 0
        && cleanup_record(state, REC_TYPE_MESG, "", 0) == 0) {
        max = cleanup_record_max(state);
        while (off < size && st == 0) {
            const uint8_t *p = data + off;
            const uint8_t *nl = memchr(p, '\n', size - off);
            size_t  len = nl ? (size_t) (nl - p) : size - off;
            int     type = REC_TYPE_NORM;

            off += len + (nl != NULL);
            if (len > 0 && p[0] == 0x01)
                type = REC_TYPE_CONT, p++, len--;
            if (len > max)
                len = max;
            st = cleanup_record(state, type, (const char *) p, len);
        }
        if (st == 0 && cleanup_record(state, REC_TYPE_XTRA, "", 0) == 0)
            (void) cleanup_record(state, REC_TYPE_END, "", 0);
        (void) cleanup_finish(state);
    }
    stream_close(state->dst);
    cleanup_state_free(state);
    return 0;
}
