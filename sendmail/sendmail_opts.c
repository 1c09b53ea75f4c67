/*
 * sendmail_opts.c - the Sendmail command line.
 *
 * Interface (sendmail.h): sendmail_state_init(), sendmail_parse_args(),
 * sendmail_parse_notify(), sendmail_add_recipients(),
 * sendmail_parse_sender(), msg_fatal_status().
 *
 * Recognized: -B type, -C file|dir, -c dir, -F name, -f sender, -r sender,
 * -I, -i, -N dsn, -R ret, -V envid, -t, -v, -b mode (m, s, p, i, v, d, D),
 * -o option (-oi, -oA file; the rest ignored), -q (queue flush; -qRsite
 * and -qIid flush one site's or one message's mail).
 * Ignored for compatibility: -G -L -O -U -X -e -h -m -n -p -x.
 *
 * SECURITY: sendmail runs with the invoker's privileges only; its
 * arguments are still checked (printable, bounded by ADDRESS_MAX) because
 * they end up in queue records that postdrop and pickup check again.
 *
 * DIAGNOSTICS: fatal: a usage error (bad option), an unsupported -b mode,
 * a bad -B, -F, -R, -V or sender (-f/-r) value, too many recipients.
 * Warnings (ignored): a malformed recipient address, a bad -N value.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "address.h"
#include "mail_proto.h"
#include "maildrop.h"
#include "mem.h"
#include "msg.h"
#include "sendmail.h"

void
sendmail_report(int level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(level, fmt, ap);
    va_end(ap);
}

void
sendmail_state_init(SM_STATE *sm)
{
    memset(sm, 0, sizeof(*sm));
    sm->mode = SM_MODE_ENQUEUE;
    sm->dot_ends = 1;
    sm->rcpts = argv_alloc();
}

int
sendmail_parse_notify(const char *text)
{
    ARGV   *words = argv_split(text, ", \t");
    int     bits = 0;

    for (size_t i = 0; i < words->argc; i++) {
        const char *w = words->argv[i];

        if (strcasecmp(w, "never") == 0)
            bits |= DSN_NOTIFY_NEVER;
        else if (strcasecmp(w, "success") == 0)
            bits |= DSN_NOTIFY_SUCCESS;
        else if (strcasecmp(w, "failure") == 0)
            bits |= DSN_NOTIFY_FAILURE;
        else if (strcasecmp(w, "delay") == 0)
            bits |= DSN_NOTIFY_DELAY;
        else
            bits = -1;
        if (bits < 0)
            break;
    }
    argv_free(words);
    if (bits == 0 || ((bits & DSN_NOTIFY_NEVER) && bits != DSN_NOTIFY_NEVER))
        return -1;
    return bits;
}

/* A usable internal address: printable and not too long. */
static int
sendmail_address_ok(const char *addr)
{
    size_t  len = strlen(addr);

    return len <= ADDRESS_MAX && maildrop_text_ok(addr, len);
}

int
sendmail_add_recipients(ARGV *out, const char *arg)
{
    ARGV   *found = argv_alloc();
    int     n = 0;

    (void) address_parse_header_list(arg, found, SM_RCPT_MAX);
    for (size_t i = 0; i < found->argc; i++) {
        if (*found->argv[i] == 0)
            continue;
        if (!sendmail_address_ok(found->argv[i])) {
            msg_warn("ignoring malformed recipient address: %.100s", found->argv[i]);
            continue;
        }
        if (out->argc >= SM_RCPT_MAX * 10)
            msg_fatal_status(SM_EX_USAGE, "too many recipients");
        argv_add(out, found->argv[i]);
        n++;
    }
    argv_free(found);
    return n;
}

char *
sendmail_parse_sender(const char *arg)
{
    ARGV   *found;
    char   *result = NULL;

    if (*arg == 0 || strcmp(arg, "<>") == 0)
        return mem_strdup("");
    found = argv_alloc();
    if (address_parse_header_list(arg, found, 2) == 1 && sendmail_address_ok(found->argv[0]))
        result = mem_strdup(found->argv[0]);
    argv_free(found);
    return result;
}

/* -b mode */
static void
sendmail_set_mode(SM_STATE *sm, const char *arg)
{
    if (strcmp(arg, "m") == 0)
        sm->mode = SM_MODE_ENQUEUE;
    else if (strcmp(arg, "s") == 0)
        sm->mode = SM_MODE_SMTP;
    else if (strcmp(arg, "p") == 0)
        sm->mode = SM_MODE_MAILQ;
    else if (strcmp(arg, "i") == 0)
        sm->mode = SM_MODE_NEWALIAS;
    else if (strcmp(arg, "v") == 0)
        sm->mode = SM_MODE_VERIFY;
    else if (strcmp(arg, "d") == 0 || strcmp(arg, "D") == 0)
        sm->mode = SM_MODE_DAEMON;
    else
        msg_fatal_status(SM_EX_USAGE, "unsupported: -b%.20s", arg);
}

/* -C config_file or config_dir: Postfix uses the directory. */
static const char *
sendmail_config_arg(const char *arg)
{
    struct stat st;
    const char *slash;

    if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
        return arg;
    if ((slash = strrchr(arg, '/')) == NULL)
        return ".";
    return mem_strndup(arg, slash == arg ? 1 : (size_t) (slash - arg));
}

static void
sendmail_option(SM_STATE *sm, int ch, const char *arg)
{
    switch (ch) {
    case 'B':
        if (strcasecmp(arg, "8BITMIME") == 0)
            sm->encoding = "8bit";
        else if (strcasecmp(arg, "7BIT") == 0)
            sm->encoding = "7bit";
        else
            msg_fatal_status(SM_EX_USAGE, "-B option needs 8BITMIME or 7BIT");
        break;
    case 'C':
        sm->config_dir = sendmail_config_arg(arg);
        break;
    case 'c':
        sm->config_dir = arg;
        break;
    case 'F':
        if (strlen(arg) > MAILDROP_FULL_MAX || !maildrop_text_ok(arg, strlen(arg)))
            msg_fatal_status(SM_EX_USAGE, "bad -F full name");
        sm->fullname = mem_strdup(arg);
        break;
    case 'f':
    case 'r':
        if ((sm->sender = sendmail_parse_sender(arg)) == NULL)
            msg_fatal_status(SM_EX_USAGE, "bad sender address in -%c option: %.100s", ch, arg);
        break;
    case 'I':
        sm->mode = SM_MODE_NEWALIAS;
        break;
    case 'i':
        sm->dot_ends = 0;
        break;
    case 'N':
        if ((sm->dsn_notify = sendmail_parse_notify(arg)) < 0) {
            msg_warn("bad -N option value -- ignored");
            sm->dsn_notify = 0;
        }
        break;
    case 'R':
        if (strcasecmp(arg, "full") == 0)
            sm->dsn_ret = DSN_RET_FULL;
        else if (strcasecmp(arg, "hdrs") == 0)
            sm->dsn_ret = DSN_RET_HDRS;
        else
            msg_fatal_status(SM_EX_USAGE, "-R option needs \"full\" or \"hdrs\"");
        break;
    case 'V':
        if (strlen(arg) > MAILDROP_ENVID_MAX || !maildrop_text_ok(arg, strlen(arg)))
            msg_fatal_status(SM_EX_USAGE, "bad -V envelope id");
        sm->dsn_envid = mem_strdup(arg);
        break;
    case 'b':
        sendmail_set_mode(sm, arg);
        break;
    case 'o':
        if (arg[0] == 'i' && arg[1] == 0)
            sm->dot_ends = 0;
        else if (arg[0] == 'A' && arg[1] != 0)
            sm->alias_file = mem_strdup(arg + 1);
        break;                  /* other -o options are ignored */
    case 'q':                   /* -q, -qRsite, -qIid; -q<interval> ignored */
        if (arg && arg[0] == 'R' && arg[1])
            sm->flush_site = arg + 1;
        else if (arg && arg[0] == 'I' && arg[1])
            sm->flush_id = arg + 1;
        if (arg == NULL || *arg == 0 || sm->flush_site || sm->flush_id)
            sm->mode = SM_MODE_FLUSH;
        break;
    case 't':
        sm->extract = 1;
        break;
    case 'v':
        sm->verbose++;
        break;
    default:                    /* G L O U X e h m n p x: ignored */
        break;
    }
}

int
sendmail_parse_args(SM_STATE *sm, int argc, char **argv)
{
    int     ch;

    opterr = 0;
    while ((ch = getopt(argc, argv, "+B:C:c:F:GIL:N:O:R:UV:X:b:e:f:h:imno:p:q::r:tvx")) != -1) {
        if (ch == '?' || ch == ':')
            msg_fatal_status(SM_EX_USAGE, "usage: %s [options] [recipient ...] "
                           "(bad option -%c)", msg_program(), optopt);
        sendmail_option(sm, ch, optarg ? optarg : "");
    }
    return optind;
}
