/*
 * test_pipe.c - unit tests for the pipe delivery agent's pure parts: the
 * flags= letters, the master.cf attributes (user= never root, eol=
 * escapes, argv= last), the ${name} macros with flags h, q, u, the
 * per-recipient repetition of an argument, conditional macros and "$$",
 * and the exit-status verdicts of command_status() (lib/global).
 *
 * The pipe/ sources are compiled in here (main() stays in pipe.c).
 */
#include <string.h>
#include <sys/wait.h>

#include "../../pipe/pipe_attr.c"
#include "../../pipe/pipe_expand.c"
#include "command_status.h"
#include "unit.h"

UNIT_TEST(test_flags)
{
    VSTRING *why = vstring_alloc(64);
    int     flags = 0;

    CHECK_INT(pipe_flags_parse("DRhu", &flags, why), 0);
    CHECK_INT(flags, PIPE_FLAG_DELIVERED | PIPE_FLAG_RETURN | PIPE_FLAG_FOLD_HOST
              | PIPE_FLAG_FOLD_USER);
    flags = 0;
    CHECK_INT(pipe_flags_parse("FOXq.>B", &flags, why), 0);
    CHECK_INT(flags, PIPE_FLAG_FROM | PIPE_FLAG_ORIG_RCPT | PIPE_FLAG_FINAL | PIPE_FLAG_QUOTE
              | PIPE_FLAG_DOT | PIPE_FLAG_QUOTE_FROM | PIPE_FLAG_BLANK);
    CHECK_INT(pipe_flags_parse("Dz", &flags, why), -1);
    CHECK_STR(STR(why), "unknown flag: z");
    vstring_free(why);
}

static int
parse(const char *line, PIPE_ATTR *attr, VSTRING *why)
{
    ARGV   *args = argv_split(line, " ");
    int     ret = pipe_attr_parse(args, 0, attr, why);

    argv_free(args);
    return ret;
}

UNIT_TEST(test_attrs)
{
    VSTRING *why = vstring_alloc(64);
    PIPE_ATTR a;

    CHECK_INT(parse("flags=Rq user=nobody size=1000 eol=\\r\\n argv=/bin/cmd -x ${user} size=1",
                    &a, why), 0);
    CHECK_INT(a.flags, PIPE_FLAG_RETURN | PIPE_FLAG_QUOTE);
    CHECK_STR(a.user, "nobody");
    CHECK(a.uid != 0);
    CHECK_INT(a.size_limit, 1000);
    CHECK_STR(a.eol, "\r\n");
    CHECK_STR(a.null_sender, "MAILER-DAEMON");
    CHECK_INT(a.argv->argc, 4);
    CHECK_STR(a.argv->argv[3], "size=1");       /* after argv=: the command's */
    pipe_attr_free(&a);
    CHECK_INT(parse("user=root argv=/bin/true", &a, why), -1);
    CHECK_STR(STR(why), "user= command-line attribute specifies root privileges");
    pipe_attr_free(&a);
    CHECK_INT(parse("user=nobody:root argv=/bin/true", &a, why), -1);
    CHECK_STR(STR(why), "user= command-line attribute specifies privileged group id 0");
    pipe_attr_free(&a);
    CHECK_INT(parse("user=nobody", &a, why), -1);
    CHECK_STR(STR(why), "missing argv= command-line attribute");
    pipe_attr_free(&a);
    CHECK_INT(parse("argv=/bin/true", &a, why), -1);
    CHECK_STR(STR(why), "missing user= command-line attribute");
    pipe_attr_free(&a);
    CHECK_INT(parse("user=nobody bogus=1 argv=/bin/true", &a, why), -1);
    CHECK_STR(STR(why), "unknown attribute name: bogus=1");
    pipe_attr_free(&a);
    vstring_free(why);
}

static DELIVER_RCPT rcpt[2] = {
    {.address = (char *) "Jo.Nas+Box@Example.COM", .orig_rcpt = (char *) "Alias@Example.COM"},
    {.address = (char *) "two words@Example.COM", .orig_rcpt = (char *) ""},
};
static int rcpt_idx[2] = {0, 1};
static DELIVER_REQUEST req = {
    .queue_id = (char *) "ABC123", .size = 4321, .sender = (char *) "Send Er@Example.COM",
    .nexthop = (char *) "Relay.Example.COM", .client_addr = (char *) "192.0.2.1",
    .client_name = (char *) "client.example", .rcpt_count = 2, .rcpt = rcpt,
};

static char *
expand(const char *line, int flags, int nrcpt)
{
    PIPE_EXPAND x = {&req, rcpt_idx, nrcpt, flags, "MAILER-DAEMON", "+"};
    ARGV   *templ = argv_split(line, " ");
    ARGV   *out = pipe_expand_argv(templ, &x);
    VSTRING *joined = vstring_alloc(1000);

    for (size_t i = 0; i < out->argc; i++)
        vstring_sprintf_append(joined, "%s%s", i ? "|" : "", out->argv[i]);
    argv_free(templ);
    argv_free(out);
    return vstring_export(joined);
}

#define CHECK_EXPAND(line, flags, n, want) do { \
        char *got_ = expand((line), (flags), (n)); \
        CHECK_STR(got_, (want)); \
        mem_free(got_); \
    } while (0)

UNIT_TEST(test_expand_plain)
{
    CHECK_EXPAND("${sender} $recipient $(original_recipient) ${user} ${extension} "
                 "${mailbox} ${domain} ${nexthop} ${size} ${queue_id} ${client_address}", 0, 1,
                 "Send Er@Example.COM|Jo.Nas+Box@Example.COM|Alias@Example.COM|Jo.Nas|Box|"
                 "Jo.Nas+Box|Example.COM|Relay.Example.COM|4321|ABC123|192.0.2.1");
    CHECK_EXPAND("$$x ${unknown}end a${extension?+${extension}}b c${sasl_username:none}",
                 0, 1, "$x|end|a+Boxb|cnone");
}

UNIT_TEST(test_expand_flags)
{
    CHECK_EXPAND("${recipient} ${original_recipient} ${domain} ${nexthop}",
                 PIPE_FLAG_FOLD_HOST, 1,
                 "Jo.Nas+Box@example.com|Alias@example.com|example.com|relay.example.com");
    CHECK_EXPAND("${recipient} ${user} ${extension} ${mailbox} ${nexthop}",
                 PIPE_FLAG_FOLD_USER, 1,
                 "jo.nas+box@Example.COM|jo.nas|box|jo.nas+box|Relay.Example.COM");
    CHECK_EXPAND("${sender} ${recipient}", PIPE_FLAG_QUOTE | PIPE_FLAG_FOLD_HOST, 2,
                 "\"Send Er\"@Example.COM|Jo.Nas+Box@example.com|\"two words\"@example.com");
}

UNIT_TEST(test_expand_per_recipient)
{
    CHECK_EXPAND("-f ${sender} -- to:${recipient} ${nexthop}", 0, 2,
                 "-f|Send Er@Example.COM|--|to:Jo.Nas+Box@Example.COM|"
                 "to:two words@Example.COM|Relay.Example.COM");
    CHECK_EXPAND("${user}@${domain} ${original_recipient}", 0, 2,
                 "Jo.Nas@Example.COM|two words@Example.COM|Alias@Example.COM|"
                 "two words@Example.COM");
    req.sender = (char *) "";
    CHECK_EXPAND("-f ${sender}", 0, 2, "-f|MAILER-DAEMON");
    req.sender = (char *) "Send Er@Example.COM";
}

UNIT_TEST(test_command_status)
{
    VSTRING *dsn = vstring_alloc(16), *why = vstring_alloc(1000), *out = vstring_alloc(1000);

    CHECK_INT(command_status(0, "/bin/x", NULL, dsn, why), DELIVER_SENT);
    CHECK_INT(command_status(75 << 8, "/bin/x", NULL, dsn, why), DELIVER_DEFER);
    CHECK_STR(STR(dsn), "4.3.0");
    CHECK_STR(STR(why), "temporary failure");
    vstring_strcpy(out, "no such\nuser\n");
    CHECK_INT(command_status(67 << 8, "/bin/x", out, dsn, why), DELIVER_BOUNCE);
    CHECK_STR(STR(dsn), "5.1.1");
    CHECK_STR(STR(why), "user unknown. Command output: no such user ");
    vstring_strcpy(out, "\n \n");                     /* nothing to show */
    CHECK_INT(command_status(69 << 8, "/bin/x", out, dsn, why), DELIVER_BOUNCE);
    CHECK_STR(STR(why), "service unavailable");
    CHECK_INT(command_status(1 << 8, "/bin/x", NULL, dsn, why), DELIVER_BOUNCE);
    CHECK_STR(STR(dsn), "5.3.0");
    CHECK_STR(STR(why), "Command died with status 1: \"/bin/x\"");
    CHECK_INT(command_status(9, "/bin/x", NULL, dsn, why), DELIVER_DEFER);
    CHECK_STR(STR(why), "Command died with signal 9: \"/bin/x\"");
    vstring_free(dsn);
    vstring_free(why);
    vstring_free(out);
}

UNIT_TESTS {
    {"test_flags", test_flags},
    {"test_attrs", test_attrs},
    {"test_expand_plain", test_expand_plain},
    {"test_expand_flags", test_expand_flags},
    {"test_expand_per_recipient", test_expand_per_recipient},
    {"test_command_status", test_command_status},
    UNIT_END
};
