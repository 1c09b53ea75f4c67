/*
 * fuzz_map_source.c - libFuzzer harness for lookup table source files:
 * postmap/postalias input (map_source_read() in lib/dict_source.c) and
 * the pattern tables regexp:, pcre: and cidr: that are parsed when
 * opened. Table files are root's, but they are often generated from
 * user-supplied data, and a daemon must never crash on them.
 *
 * Input: byte 0 picks the reader; the rest is the file.
 */
#include "maps.h"
#include "mem.h"
#include "msg.h"
#include "fuzz_util.h"

static int
fuzz_entry(const char *key, const char *value, int lineno, void *ctx)
{
    (void) ctx;
    if (key == NULL || value == NULL || lineno <= 0)
        abort();
    return 0;
}

static void
fuzz_table(const char *type, const char *path)
{
    char   *spec = mem_printf("%s:%s", type, path);
    char   *err = NULL;
    DICT   *d = dict_open(spec, 0, &err);
    const char *value;

    if (d != NULL) {
        (void) dict_get(d, "user@example.com", &value);
        (void) dict_get(d, "192.0.2.1", &value);
        (void) dict_get(d, "2001:db8::1", &value);
        (void) dict_get(d, "", &value);
        dict_close(d);
    }
    mem_free(err);
    mem_free(spec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    char    path[64];

    if (!init) {
        msg_init("fuzz", MSG_NOSYSLOG);
        init = 1;
    }
    if (size < 1 || size > 100000)
        return 0;
    if (fuzz_tempfile(data + 1, size - 1, path, sizeof(path)) < 0)
        return 0;
    switch (data[0] % 5) {
    case 0:
    case 1:
        (void) map_source_read(path, data[0] % 5, fuzz_entry, NULL);
        break;
    case 2:
        fuzz_table("regexp", path);
        break;
    case 3:
        fuzz_table("pcre", path);
        break;
    case 4:
        fuzz_table("cidr", path);
        break;
    }
    unlink(path);
    return 0;
}
