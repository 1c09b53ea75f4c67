/*
 * cleanup_fixture.h - the cleanup tests' shared fixture: the cleanup
 * sources compiled in directly (the program directories are not a
 * library), a CLEANUP_STATE on a fresh unlinked temporary file, records
 * fed in with put(), and the resulting queue file as text.
 *
 * Included once by tests/unit/test_cleanup_*.c, after unit.h; everything
 * here is static and may go unused (CLEANUP_TEST_FN).
 */
#ifndef POSTHORN_CLEANUP_FIXTURE_H
#define POSTHORN_CLEANUP_FIXTURE_H

#include <stdlib.h>
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

#define CLEANUP_TEST_FN static __attribute__((unused))

CLEANUP_TEST_FN int
test_rewrite(const char *rule, const char *addr, VSTRING *out)
{
    rewrite_addr(rule, addr, out);
    return 0;
}

/*
 * A started cleanup state writing to a new temporary file: main.cf is
 * main_cf then extra (unless null), the state's flags are flags, and
 * addresses are rewritten by the real rewrite_addr().
 */
CLEANUP_TEST_FN CLEANUP_STATE *
cleanup_test_setup(const char *main_cf, const char *extra, int flags)
{
    char    path[] = "/tmp/test_cleanup.XXXXXX";
    int     fd = mkstemp(path);
    CLEANUP_STATE *state;

    msg_init("cleanup", MSG_STDERR | MSG_NOSYSLOG);
    unlink(path);
    config_reset();
    config_load_text(main_cf, "test");
    if (extra)
        config_load_text(extra, "test-extra");
    mail_params_init();
    cleanup_params_init();
    resolve_params_init();             /* rewrite_addr() (test_rewrite) */
    cc.loaded = cm.loaded = 0;         /* tables are opened once per process */
    state = cleanup_state_alloc("3F2A81C0B7", stream_fdopen(fd));
    state->rewrite = test_rewrite;
    state->flags = flags;
    CHECK_INT(cleanup_start(state), 0);
    return state;
}

CLEANUP_TEST_FN int
put(CLEANUP_STATE *state, int type, const char *text)
{
    return cleanup_record(state, type, text, strlen(text));
}

CLEANUP_TEST_FN void
put_one(void *state, int type, const char *data)
{
    (void) cleanup_record(state, type, data, strlen(data));
}

/* Records from "T:data" lines (see unit_each_record()), each fed to
 * cleanup_record() whatever the one before returned. */
CLEANUP_TEST_FN void
put_records(CLEANUP_STATE *state, const char *text)
{
    unit_each_record(text, put_one, state);
}

/* The file as text: one line per record, "T:data"; it must read to the end. */
CLEANUP_TEST_FN char *
dump(CLEANUP_STATE *state)
{
    VSTRING *out = vstring_alloc(VSTRING_UNLIMITED);
    VSTRING *buf = vstring_alloc(REC_MAX_DEFAULT);
    int     type;

    stream_seek(state->dst, 0);
    while ((type = rec_get(state->dst, buf, REC_MAX_DEFAULT)) >= 0)
        vstring_sprintf_append(out, "%c:%s\n", type, STR(buf));
    CHECK_INT(type, REC_TYPE_EOF);
    vstring_free(buf);
    return vstring_export(out);
}

#endif
