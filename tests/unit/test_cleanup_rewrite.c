/*
 * test_cleanup_rewrite.c - cleanup's address mapping and content checks
 * on a temp queue file, with inline:/static: tables: canonical maps
 * (envelope and headers, extensions, @domain), virtual alias expansion
 * (one-to-many, recursion, self-mapping, limits), masquerading, header
 * address rewriting, header_checks/body_checks actions and MIME part
 * headers; plus addr_map and header_addr_rewrite directly.
 */
#include "unit.h"
#include "cleanup_fixture.h"

static CLEANUP_STATE *
setup(const char *extra, int flags)
{
    return cleanup_test_setup("myhostname = mail.example.com\nmydomain = example.com\n"
                              "myorigin = $mydomain\nmydestination = $myhostname, $mydomain\n"
                              "inet_interfaces = 127.0.0.1\n", extra, flags);
}

/* Run one message: sender, recipients (NULL-terminated), header/body lines. */
static char *
run_message(CLEANUP_STATE *state, const char *from, const char **rcpts, const char **lines)
{
    char   *text;

    put_records(state, "T:1795000000 123\nA:client_name=client.example\nA:client_addr=192.0.2.1\n"
                "A:protocol_name=ESMTP\nA:helo_name=helo.example\n");
    put(state, REC_TYPE_FROM, from);
    for (; *rcpts; rcpts++)
        put(state, REC_TYPE_RCPT, *rcpts);
    put(state, REC_TYPE_MESG, "");
    for (; lines && *lines; lines++)
        put(state, REC_TYPE_NORM, *lines);
    put(state, REC_TYPE_XTRA, "");
    put(state, REC_TYPE_END, "");
    cleanup_finish(state);
    text = dump(state);
    stream_close(state->dst);
    return text;
}

static int
test_rewrite_local(void *ctx, const char *addr, VSTRING *out)
{
    rewrite_addr("local", addr, out);
    return 1;
}

#define MAP_OK  (CLEANUP_FLAG_MAP_OK)
#define ALL     (CLEANUP_FLAG_MAP_OK | CLEANUP_FLAG_FILTER)

UNIT_TEST(sender_canonical_envelope_and_header)
{
    CLEANUP_STATE *s = setup("sender_canonical_maps = inline:{ jonas@example.com=jonas.smith@example.com }\n", MAP_OK);
    const char *r[] = {"jonas", 0};
    const char *l[] = {"From: Jonas <jonas>", "To: jonas", "", "body", 0};
    char   *t = run_message(s, "jonas", r, l);

    CHECK(strstr(t, "S:jonas.smith@example.com\n") != NULL);
    CHECK(strstr(t, "N:From: Jonas <jonas.smith@example.com>\n") != NULL);
    /* recipients are not sender-mapped, only qualified */
    CHECK(strstr(t, "R:jonas@example.com\n") != NULL);
    CHECK(strstr(t, "N:To: jonas@example.com\n") != NULL);
    free(t);
    cleanup_state_free(s);
}

UNIT_TEST(canonical_forms_and_extension)
{
    CLEANUP_STATE *s = setup("recipient_delimiter = +\n"
                             "canonical_maps = inline:{ bob=robert@example.com, "
                             "@old.example=@new.example, carol@x.example=caz@y.example }\n", MAP_OK);
    const char *r[] = {"bob+tag@example.com", "ann@old.example", "bob@elsewhere.example",
        "carol@x.example", 0};
    char   *t = run_message(s, "", r, NULL);

    CHECK(strstr(t, "O:bob+tag@example.com\nR:robert+tag@example.com\n") != NULL);
    CHECK(strstr(t, "R:ann@new.example\n") != NULL);
    CHECK(strstr(t, "R:bob@elsewhere.example\n") != NULL);  /* not a local domain */
    CHECK(strstr(t, "R:caz@y.example\n") != NULL);
    CHECK(strstr(t, "S:\n") != NULL);                        /* null sender stays */
    free(t);
    cleanup_state_free(s);
}

UNIT_TEST(no_map_flag_no_mapping)
{
    CLEANUP_STATE *s = setup("canonical_maps = static:nobody@example.com\n", 0);
    const char *r[] = {"a@x.example", 0};
    char   *t = run_message(s, "b@y.example", r, NULL);

    CHECK(strstr(t, "S:b@y.example\n") != NULL);
    CHECK(strstr(t, "R:a@x.example\n") != NULL);
    free(t);
    cleanup_state_free(s);
}

UNIT_TEST(virtual_one_to_many)
{
    CLEANUP_STATE *s = setup("virtual_alias_maps = inline:{ {team@virt.example = a@example.com, "
                             "list@virt.example}, {list@virt.example = b, c@example.com}, "
                             "self@example.com=self@example.com, "
                             "{keep@example.com=keep@example.com, copy@example.com} }\n", MAP_OK);
    const char *r[] = {"team@virt.example", "keep@example.com", 0};
    char   *t = run_message(s, "x@y.example", r, NULL);

    CHECK(strstr(t, "O:team@virt.example\nR:a@example.com\n") != NULL);
    CHECK(strstr(t, "O:team@virt.example\nR:b@example.com\n") != NULL);
    CHECK(strstr(t, "O:team@virt.example\nR:c@example.com\n") != NULL);
    CHECK(strstr(t, "R:list@virt.example") == NULL);
    CHECK(strstr(t, "R:keep@example.com\n") != NULL);       /* maps to itself: kept */
    CHECK(strstr(t, "O:keep@example.com\nR:copy@example.com\n") != NULL);
    long    size, data, nrcpt, xtra;
    CHECK(sscanf(t, "C:%ld %ld %ld %ld", &size, &data, &nrcpt, &xtra) == 4);
    CHECK_INT(nrcpt, 5);
    free(t);
    cleanup_state_free(s);
}

UNIT_TEST(virtual_loop_defers)
{
    CLEANUP_STATE *s = setup("virtual_alias_maps = inline:{ a@example.com=b@example.com, "
                             "b@example.com=a@example.com }\n"
                             "virtual_alias_recursion_limit = 5\n", MAP_OK);
    const char *r[] = {"a@example.com", 0};
    char   *t = run_message(s, "x@y.example", r, NULL);

    CHECK(s->errs & CLEANUP_STAT_DEFER);
    CHECK_STR(STR(s->reason), "4.6.0 Alias expansion error");
    free(t);
    cleanup_state_free(s);
}

UNIT_TEST(virtual_expansion_limit)
{
    CLEANUP_STATE *s = setup("virtual_alias_maps = inline:{ {big@example.com = a, b, c, d} }\n"
                             "virtual_alias_expansion_limit = 3\n", MAP_OK);
    const char *r[] = {"big@example.com", 0};
    char   *t = run_message(s, "x@y.example", r, NULL);

    CHECK(s->errs & CLEANUP_STAT_DEFER);
    free(t);
    cleanup_state_free(s);
}

UNIT_TEST(masquerading)
{
    CLEANUP_STATE *s = setup("masquerade_domains = !keep.example.com, example.com\n"
                             "masquerade_exceptions = root\n", MAP_OK);
    const char *r[] = {"u@host.example.com", 0};
    const char *l[] = {"From: a@host.example.com", "Cc: b@keep.example.com, root@h.example.com",
        "To: Joe <joe@deep.host.example.com>", "", 0};
    char   *t = run_message(s, "s@host.example.com", r, l);

    CHECK(strstr(t, "S:s@example.com\n") != NULL);
    CHECK(strstr(t, "R:u@host.example.com\n") != NULL);     /* envelope_recipient not a class */
    CHECK(strstr(t, "N:From: a@example.com\n") != NULL);
    CHECK(strstr(t, "N:Cc: b@keep.example.com, root@h.example.com\n") != NULL);
    CHECK(strstr(t, "N:To: Joe <joe@example.com>\n") != NULL);
    free(t);
    cleanup_state_free(s);
}

UNIT_TEST(remote_context_headers_untouched)
{
    CLEANUP_STATE *s = setup("canonical_maps = inline:{ a@example.com=z@example.com }\n", MAP_OK);
    const char *r[] = {"u@example.com", 0};
    const char *l[] = {"From: a@example.com", "To: someone", "", 0};
    char   *t;

    put(s, REC_TYPE_ATTR, "rewrite_context=remote");
    t = run_message(s, "a@example.com", r, l);
    CHECK(strstr(t, "S:z@example.com\n") != NULL);          /* envelope: mapped */
    CHECK(strstr(t, "N:From: a@example.com\n") != NULL);    /* headers: not */
    CHECK(strstr(t, "N:To: someone\n") != NULL);
    free(t);
    cleanup_state_free(s);
}

UNIT_TEST(header_checks_reject)
{
    CLEANUP_STATE *s = setup("header_checks = inline:{ {subject: spam = REJECT no spam here} }\n", ALL);
    const char *r[] = {"u@example.com", 0};
    const char *l[] = {"Subject: spam", "", "body", 0};
    char   *t = run_message(s, "a@example.com", r, l);

    CHECK(s->errs & CLEANUP_STAT_CONT);
    CHECK_STR(STR(s->reason), "5.7.1 no spam here");
    free(t);
    cleanup_state_free(s);

    s = setup("header_checks = inline:{ {subject: spam = REJECT} }\n", CLEANUP_FLAG_MAP_OK);
    t = run_message(s, "a@example.com", r, l);     /* no FILTER flag: no checks */
    CHECK_INT(s->errs, 0);
    free(t);
    cleanup_state_free(s);

    s = setup("header_checks = inline:{ {subject: spam = REJECT} }\n", ALL);
    t = run_message(s, "a@example.com", r, l);
    CHECK_STR(STR(s->reason), "5.7.1 message content rejected");
    free(t);
    cleanup_state_free(s);
}

UNIT_TEST(header_checks_edit_actions)
{
    CLEANUP_STATE *s = setup("header_checks = inline:{ {x-drop: 1 = IGNORE}, "
                             "{x-old: 1 = REPLACE X-New: 2}, {x-pre: 1 = PREPEND X-Added: yes}, "
                             "{x-hold: 1 = HOLD}, {x-filter: 1 = FILTER smtp:[127.0.0.1]:10024}, "
                             "{x-bcc: 1 = BCC copy@example.com} }\n"
                             "body_checks = inline:{ {bad line = REPLACE good line}, {gone = IGNORE} }\n",
                             ALL);
    const char *r[] = {"u@example.com", 0};
    const char *l[] = {"X-Drop: 1", "X-Old: 1", "X-Pre: 1", "X-Hold: 1", "X-Filter: 1",
        "X-Bcc: 1", "", "bad line", "gone", "last", 0};
    char   *t = run_message(s, "a@example.com", r, l);

    CHECK_INT(s->errs, 0);
    CHECK(strstr(t, "X-Drop") == NULL);
    CHECK(strstr(t, "N:X-New: 2\n") != NULL && strstr(t, "X-Old") == NULL);
    CHECK(strstr(t, "N:X-Added: yes\nN:X-Pre: 1\n") != NULL);
    CHECK(s->flags & CLEANUP_FLAG_HOLD);
    CHECK(strstr(t, "X:\nL:smtp:[127.0.0.1]:10024\nR:copy@example.com\nE:") != NULL);
    CHECK(strstr(t, "N:\nN:good line\nN:last\nX:") != NULL);
    free(t);
    cleanup_state_free(s);
}

UNIT_TEST(redirect_and_discard)
{
    CLEANUP_STATE *s = setup("header_checks = inline:{ {x-r: 1 = REDIRECT other@example.com} }\n", ALL);
    const char *r[] = {"u@example.com", "v@example.com", 0};
    const char *l[] = {"X-R: 1", "", 0};
    char   *t = run_message(s, "a@example.com", r, l);

    CHECK(strstr(t, "D:u@example.com\nD:v@example.com\n") != NULL);
    CHECK(strstr(t, "X:\nR:other@example.com\nE:") != NULL);
    free(t);
    cleanup_state_free(s);

    s = setup("body_checks = inline:{ {discard me = DISCARD} }\n", ALL);
    t = run_message(s, "a@example.com", r, (const char *[]) {"", "discard me", 0});
    CHECK(s->flags & CLEANUP_FLAG_DISCARD);
    CHECK_INT(s->errs, 0);
    free(t);
    cleanup_state_free(s);
}

UNIT_TEST(mime_part_headers)
{
    CLEANUP_STATE *s = setup("header_checks = inline:{ {content-type: application/x-bad = REJECT primary} }\n"
                             "mime_header_checks = inline:{ {content-type: application/x-bad = "
                             "REJECT 5.7.0 bad attachment} }\n"
                             "body_checks = inline:{ {content-type: application/x-bad = REJECT body} }\n",
                             ALL);
    const char *r[] = {"u@example.com", 0};
    const char *l[] = {"Content-Type: multipart/mixed;", "\tboundary=\"XyZ\"", "",
        "preamble", "--XyZ", "Content-Type: text/plain", "", "hello", "--XyZ",
        "Content-Type: application/x-bad", "", "data", "--XyZ--", 0};
    char   *t = run_message(s, "a@example.com", r, l);

    CHECK(s->errs & CLEANUP_STAT_CONT);
    CHECK_STR(STR(s->reason), "5.7.0 bad attachment");
    free(t);
    cleanup_state_free(s);
}

UNIT_TEST(header_addr_rewrite_keeps_text)
{
    VSTRING *h = vstring_alloc(1000);

    msg_init("cleanup", MSG_STDERR | MSG_NOSYSLOG);
    config_reset();
    config_load_text("myorigin = example.com\nmydomain = example.com\n", "test");
    mail_params_init();
    resolve_params_init();
    vstring_strcpy(h, "To: \"Doe, J\" <jd>, (c) x@y.example,\n\tgroup: a, \"b c\"@d.example;, <>");
    CHECK_INT(header_addr_rewrite(h, test_rewrite_local, NULL), 2);
    CHECK_STR(STR(h), "To: \"Doe, J\" <jd@example.com>, (c) x@y.example,\n\tgroup: a@example.com, "
              "\"b c\"@d.example;, <>");
    vstring_free(h);
}

static int rw_calls;

static int
rw_a(const char *rule, const char *addr, VSTRING *out)
{
    rw_calls++;
    vstring_sprintf(out, "%s@a.example", addr);
    return 0;
}

static int
rw_b(const char *rule, const char *addr, VSTRING *out)
{
    rw_calls++;
    vstring_sprintf(out, "%s@b.example", addr);
    return 0;
}

/* The rewrite cache belongs to one message: a second client's message
 * (another state) neither sees nor empties the first one's answers. */
UNIT_TEST(rewrite_cache_per_message)
{
    CLEANUP_STATE *a = setup(NULL, 0);
    CLEANUP_STATE *b = cleanup_state_alloc("4B1C92D1C8", stream_fdopen(dup(1)));
    VSTRING *out = vstring_alloc(100);

    a->rewrite = rw_a;
    b->rewrite = rw_b;
    CHECK_INT(cleanup_rewrite_addr(a, "local", "u", out), 0);
    CHECK_STR(STR(out), "u@a.example");
    CHECK_INT(cleanup_rewrite_addr(b, "local", "u", out), 0);
    CHECK_STR(STR(out), "u@b.example");
    CHECK_INT(rw_calls, 2);
    CHECK_INT(cleanup_rewrite_addr(a, "local", "u", out), 0);
    CHECK_STR(STR(out), "u@a.example");
    CHECK_INT(cleanup_rewrite_addr(a, "remote", "u", out), 0);
    CHECK_INT(rw_calls, 3);                     /* one cached answer, one new rule */
    vstring_free(out);
    cleanup_state_free(b);
    cleanup_state_free(a);
}

UNIT_TESTS {
    {"rewrite_cache_per_message", rewrite_cache_per_message},
    {"sender_canonical_envelope_and_header", sender_canonical_envelope_and_header},
    {"canonical_forms_and_extension", canonical_forms_and_extension},
    {"no_map_flag_no_mapping", no_map_flag_no_mapping},
    {"virtual_one_to_many", virtual_one_to_many},
    {"virtual_loop_defers", virtual_loop_defers},
    {"virtual_expansion_limit", virtual_expansion_limit},
    {"masquerading", masquerading},
    {"remote_context_headers_untouched", remote_context_headers_untouched},
    {"header_checks_reject", header_checks_reject},
    {"header_checks_edit_actions", header_checks_edit_actions},
    {"redirect_and_discard", redirect_and_discard},
    {"mime_part_headers", mime_part_headers},
    {"header_addr_rewrite_keeps_text", header_addr_rewrite_keeps_text},
    UNIT_END
};
