/*
 * fuzz_dict_sql.c - libFuzzer harness for the SQL tables' shared code
 * (lib/dict/dict_sql.c): the configuration file parser, the host
 * specification parser, and the %-expansion of query and result_format
 * with a quoting function. The key and the result come from the network
 * or a database; the expansion must never write outside its bounded
 * output or read past a string.
 *
 * Input: byte 0 picks the code; for the expansion the rest is
 * "format NUL value NUL key" (missing parts are empty).
 */
#include "dict_sql.h"
#include "mem.h"
#include "msg.h"
#include "fuzz_util.h"

static void
fuzz_quote(void *ctx, VSTRING *out, const char *s, size_t len)
{
    (void) ctx;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\'' || s[i] == '\\')
            vstring_addch(out, '\\');
        vstring_addch(out, s[i]);
    }
}

static void
fuzz_cfg(const uint8_t *data, size_t size)
{
    SQL_CFG *cfg = sql_cfg_parse((const char *) data, size);
    VSTRING *why = vstring_alloc(1024);
    ARGV   *hosts = argv_split_list(sql_cfg_str(cfg, "hosts", "localhost"));
    char   *q;
    int     n;
    SQL_HOST h;

    (void) sql_cfg_int(cfg, "expansion_limit", 0, 0, 1000, &n, why);
    (void) sql_cfg_bool(cfg, "tls_verify_cert", 0, &n, why);
    if ((q = sql_legacy_query(cfg, why)) != NULL)
        (void) sql_format_check(q, SQL_FMT_QUERY, why);
    mem_free(q);
    for (size_t i = 0; i < hosts->argc; i++) {
        (void) sql_host_parse(hosts->argv[i], &h, why);
        mem_free(h.spec);
        mem_free(h.name);
        mem_free(h.port);
    }
    argv_free(hosts);
    vstring_free(why);
    sql_cfg_free(cfg);
}

static void
fuzz_expand(const uint8_t *data, size_t size, int is_query)
{
    char   *buf = mem_alloc(size + 3);
    const char *fmt, *value, *key;
    VSTRING *out = vstring_alloc(4096);
    VSTRING *why = vstring_alloc(1024);

    memcpy(buf, data, size);            /* + three NULs from mem_alloc */
    fmt = buf;
    value = fmt + strlen(fmt) + 1;
    key = value < buf + size ? value + strlen(value) + 1 : value;
    if (value > buf + size)
        value = buf + size;
    if (key > buf + size)
        key = buf + size;
    if (sql_format_check(fmt, is_query ? SQL_FMT_QUERY : SQL_FMT_RESULT, why) == 0) {
        (void) sql_expand(out, fmt, value, is_query ? NULL : key,
                          is_query ? fuzz_quote : NULL, NULL);
        (void) sql_key_parts_ok(fmt, key);
    }
    vstring_free(out);
    vstring_free(why);
    mem_free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;

    if (!init) {
        msg_init("fuzz", MSG_NOSYSLOG);
        init = 1;
    }
    if (size < 1 || size > 100000)
        return 0;
    switch (data[0] % 3) {
    case 0:
        fuzz_cfg(data + 1, size - 1);
        break;
    default:
        fuzz_expand(data + 1, size - 1, data[0] % 3 == 1);
        break;
    }
    return 0;
}
