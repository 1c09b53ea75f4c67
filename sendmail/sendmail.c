/*
 * sendmail.c - the Sendmail compatible interface: posting mail
 * (sendmail), listing the queue (mailq, -bp) and rebuilding aliases
 * (newaliases, -bi, -I).
 *
 *     sendmail [option ...] [recipient ...]
 *
 * Posting: the message is read from stdin (to EOF, or to a line of just
 * "." without -i), turned into maildrop records, and piped to postdrop,
 * which writes it into the maildrop queue; pickup takes it from there.
 * The envelope sender is -f, else the invoking user's login name.
 * mailq runs "postqueue -p", -q "postqueue -f" (-qRsite "-s site", -qIid
 * "-i id"), newaliases runs postalias
 * on $alias_database, -bd "postfix start", -bs runs smtpd stand-alone on
 * stdin/stdout (that needs root: smtpd talks to cleanup directly).
 * -bv reads no message: it queues an empty one marked trace_flags=verify
 * for the recipients; the delivery agents only check them, and the
 * sender gets a "Mail Delivery Status Report".
 *
 * Exit status (sysexits.h): 0 queued; 64 usage; 65 bad input; 69 the
 * message is bigger than $message_size_limit ("message file too big";
 * the maildrop file is capped at that size, as in Postfix); 75 temporary
 * queue trouble; 77 not allowed to submit mail.
 *
 * SECURITY: sendmail has no privileges of its own; postdrop checks
 * everything again.
 *
 * DIAGNOSTICS: fatal, with sendmail's wording where Postfix has it: no
 * recipients (none on the command line and none found with -t), no login
 * name for the user, a file size limit that cannot be set, /dev/null that
 * cannot be opened, a program that cannot be executed (newaliases, mailq,
 * postdrop). Option problems: sendmail_opts.c.
 */
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "file_limit.h"
#include "mem.h"
#include "msg.h"
#include "record.h"
#include "sendmail.h"

/* exec a program with the -c option if any; never returns. */
static void __attribute__((noreturn))
sendmail_exec(const SM_STATE *sm, const char *dir, const char *prog, ARGV *extra)
{
    char   *path = mem_printf("%s/%s", dir, prog);
    ARGV   *args = argv_alloc();

    argv_add(args, prog);
    if (sm->config_dir) {
        argv_add(args, "-c");
        argv_add(args, sm->config_dir);
    }
    for (size_t i = 0; extra && i < extra->argc; i++)
        argv_add(args, extra->argv[i]);
    execv(path, args->argv);
    msg_fatal_status(SM_EX_UNAVAILABLE, "execute %s: %m", path);
}

/* Full name: -F, else $NAME, else the GECOS field up to the first comma. */
static char *
sendmail_fullname(const SM_STATE *sm, const struct passwd *pw)
{
    const char *name = getenv("NAME");
    VSTRING *out;

    if (sm->fullname)
        return mem_strdup(sm->fullname);
    if (name && *name && strlen(name) <= 1024)
        return mem_strdup(name);
    if (pw == NULL || pw->pw_gecos == NULL)
        return NULL;
    out = vstring_alloc(1024);
    for (const char *cp = pw->pw_gecos; *cp && *cp != ','; cp++) {
        if (*cp == '&') {       /* BSD convention: the login name, capitalized */
            size_t  start = LEN(out);

            vstring_cat(out, pw->pw_name);
            if (LEN(out) > start && STR(out)[start] >= 'a' && STR(out)[start] <= 'z')
                STR(out)[start] -= 'a' - 'A';
        } else {
            vstring_addch(out, (unsigned char) *cp < ' ' ? ' ' : *cp);
        }
    }
    return vstring_export(out);
}

static void
sendmail_copy_headers(SM_POST *post, const SM_HEADERS *hdrs)
{
    for (size_t i = 0; i < hdrs->count; i++)
        if (hdrs->pieces[i].type != 0)
            rec_put(post->out, hdrs->pieces[i].type, hdrs->pieces[i].data, hdrs->pieces[i].len);
}

static int
sendmail_enqueue(SM_STATE *sm, int argc, char **argv)
{
    uid_t   uid = getuid();
    struct passwd *pw = getpwuid(uid);
    char    who[300];
    const char *sender;
    char   *fullname;
    SM_INPUT input;
    SM_HEADERS hdrs;
    SM_POST post;
    STREAM *in;
    int     type;

    if (pw == NULL && sm->sender == NULL)
        msg_fatal_status(SM_EX_USAGE, "no login name found for user ID %lu", (unsigned long) uid);
    snprintf(who, sizeof(who), "%s(%ld)", pw ? pw->pw_name : "unknown", (long) uid);
    sender = sm->sender ? sm->sender : pw->pw_name;
    for (int i = 0; i < argc; i++)
        sendmail_add_recipients(sm->rcpts, argv[i]);
    if (sm->rcpts->argc == 0 && !sm->extract)
        msg_fatal_status(SM_EX_USAGE, "%s: Recipient addresses must be specified on "
                       "the command line or via the -t option", who);
    fullname = sendmail_fullname(sm, pw);

    if (sm->mode != SM_MODE_VERIFY)
        in = stream_fdopen(STDIN_FILENO);
    else if ((in = stream_open("/dev/null", O_RDONLY, 0)) == NULL)
        msg_fatal_status(SM_EX_OSERR, "open /dev/null: %m");
    sendmail_input_init(&input, in, var_line_limit, sm->dot_ends);
    sendmail_read_headers(&input, &hdrs, (size_t) var_header_limit);
    if (sm->extract)
        sendmail_extract(&hdrs, sm->rcpts);
    if (sm->rcpts->argc == 0)
        msg_fatal_status(SM_EX_USAGE, "%s: No recipient addresses found in message header", who);

    /* As Postfix: the maildrop file is capped (postdrop inherits this). */
    if (file_limit_cap(var_message_limit) < 0)
        msg_fatal_status(SM_EX_OSERR, "set file size limit: %m");
    sendmail_post_open(&post, sm);
    sendmail_post_envelope(&post, sm, sender, fullname, sm->rcpts);
    sendmail_copy_headers(&post, &hdrs);
    sendmail_headers_free(&hdrs);
    while ((type = sendmail_input_piece(&input)) != REC_TYPE_EOF)
        if (rec_put(post.out, type, STR(input.buf), LEN(input.buf)) < 0)
            break;              /* postdrop went away: its status tells why */
    mem_free(fullname);
    if (sm->mode == SM_MODE_VERIFY)
        (void) stream_close(in);
    else
        stream_free_keep_fd(in);
    return sendmail_post_close(&post, who);
}

/* newaliases: postalias on -oA or every $alias_database table. */
static void
sendmail_newaliases(const SM_STATE *sm)
{
    ARGV   *files;

    if (sm->alias_file) {
        files = argv_alloc();
        argv_add(files, sm->alias_file);
    } else {
        files = argv_split_list(var_alias_db);
    }
    if (files->argc == 0)
        exit(SM_EX_OK);
    sendmail_exec(sm, var_command_dir, "postalias", files);
}

int
main(int argc, char **argv)
{
    SM_STATE sm;
    const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    ARGV   *extra = argv_alloc();
    int     first;

    msg_init("sendmail", MSG_STDERR);
    sendmail_state_init(&sm);
    if (strcmp(base, "mailq") == 0)
        sm.mode = SM_MODE_MAILQ;
    else if (strcmp(base, "newaliases") == 0)
        sm.mode = SM_MODE_NEWALIAS;
    sm.config_dir = getenv("MAIL_CONFIG");
    first = sendmail_parse_args(&sm, argc, argv);
    config_load(sm.config_dir);
    msg_logging_init();
    sendmail_params_init();
    msg_verbose = sm.verbose;

    switch (sm.mode) {
    case SM_MODE_MAILQ:
        argv_add(extra, "-p");
        sendmail_exec(&sm, var_command_dir, "postqueue", extra);
    case SM_MODE_FLUSH:
        argv_add(extra, sm.flush_site ? "-s" : sm.flush_id ? "-i" : "-f");
        if (sm.flush_site || sm.flush_id)
            argv_add(extra, sm.flush_site ? sm.flush_site : sm.flush_id);
        sendmail_exec(&sm, var_command_dir, "postqueue", extra);
    case SM_MODE_NEWALIAS:
        sendmail_newaliases(&sm);
        break;
    case SM_MODE_DAEMON:
        argv_add(extra, "start");
        sendmail_exec(&sm, var_command_dir, "postfix", extra);
    case SM_MODE_SMTP:
        argv_add(extra, "-d");
        argv_add(extra, "-n");
        argv_add(extra, "sendmail");
        argv_add(extra, "-t");
        argv_add(extra, "unix");
        sendmail_exec(&sm, var_daemon_dir, "smtpd", extra);
    default:
        break;
    }
    exit(sendmail_enqueue(&sm, argc - first, argv + first));
}
