/*
 * smtpd_proto.c - the SMTP session: one table of verbs, each with a
 * check (state and syntax) and an action, and the loop that reads
 * commands and dispatches them.
 *
 * Interface: smtpd_proto_session() runs a whole session on state->client
 * (see smtpd_state.c for the state): greeting, commands until QUIT, EOF,
 * timeout, or too many errors, then the "disconnect from" log line.
 *
 * SECURITY: every command line is bounded by line_length_limit (see
 * smtpd_chat.c); addresses by ADDRESS_MAX; the number of recipients by
 * smtpd_recipient_limit; errors by smtpd_hard_error_limit, and past
 * smtpd_junk_command_limit each NOOP/VRFY/ETRN/RSET counts as an error
 * (reset when a message is queued); idle time by smtpd_timeout. The
 * HELO/EHLO name is stored printable (non-printable bytes as '?').
 * HTTP-like commands (CONNECT, GET, POST, "Header:") end the session at
 * once. STARTTLS and the "encrypt" policy are in smtpd_tls.c; a
 * wrapper-mode (SMTPS) handshake comes before the greeting.
 *
 * DIAGNOSTICS: none fatal; a non-SMTP command (an HTTP or mail header
 * line) is a warning naming the client, and the session ends as Postfix's
 * does.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "address.h"
#include "mail_proto.h"
#include "maps.h"
#include "mem.h"
#include "msg.h"
#include "printable.h"
#include "flush_clnt.h"
#include "smtpd.h"
#include "smtpd_anvil.h"
#include "smtpd_check.h"
#include "smtpd_sasl.h"
#include "valid_hostname.h"

typedef int (*SMTPD_CMD_FN)(SMTPD_STATE *state, int argc, char **argv);

typedef struct SMTPD_CMD {
    const char *name;
    int     stat;               /* SMTPD_CMD_* */
    SMTPD_CMD_FN check;         /* state/syntax check; NULL: none */
    SMTPD_CMD_FN action;
    int     junk;               /* counts against smtpd_junk_command_limit */
} SMTPD_CMD;

/* The command text after the verb, with leading white space skipped. */
static const char *
smtpd_proto_rest(const SMTPD_STATE *state)
{
    const char *cp = STR(state->buffer);

    cp += strcspn(cp, " \t");
    return cp + strspn(cp, " \t");
}

static int
smtpd_proto_check_helo(SMTPD_STATE *state, int argc, char **argv)
{
    if (argc < 2) {
        smtpd_chat_reply(state, "501 Syntax: %s hostname",
                         strcasecmp(argv[0], "EHLO") == 0 ? "EHLO" : "HELO");
        return -1;
    }
    return 0;
}

static void
smtpd_proto_set_helo(SMTPD_STATE *state, const char *proto)
{
    smtpd_state_mail_reset(state);
    mem_free(state->helo_name);
    /* as Postfix: stored (and so logged, sent to policy servers and put
     * into Received:) with non-printable bytes as '?' */
    state->helo_name = printable_fix(mem_strdup(smtpd_proto_rest(state)),
                                     var_smtputf8_enable);
    state->protocol = proto;
}

/* smtpd_helo_restrictions when not delayed (smtpd_check.h); -1: replied */
static int
smtpd_proto_helo_restrict(SMTPD_STATE *state)
{
    VSTRING *reply = vstring_alloc(1024);
    int     ret = smtpd_check_helo_stage(state, reply);

    if (ret == 0)
        ret = smtpd_milter_helo(state, reply);          /* smtpd_milters */
    if (ret != 0) {
        smtpd_chat_reply(state, "%s", STR(reply));
        mem_free(state->helo_name);
        state->helo_name = NULL;
    }
    vstring_free(reply);
    return ret;
}

static int
smtpd_proto_helo(SMTPD_STATE *state, int argc, char **argv)
{
    smtpd_proto_set_helo(state, "SMTP");
    if (smtpd_proto_helo_restrict(state) != 0)
        return -1;
    smtpd_chat_reply(state, "250 %s", var_myhostname);
    return 0;
}

/* Is this EHLO keyword in smtpd_discard_ehlo_keywords? */
static int
smtpd_proto_ehlo_discarded(const char *keyword)
{
    ARGV   *list = smtpd_conf.discard_ehlo;

    for (size_t i = 0; i < list->argc; i++)
        if (strcasecmp(list->argv[i], keyword) == 0)
            return 1;
    return 0;
}

static void
smtpd_proto_ehlo_add(ARGV *lines, const char *keyword, const char *text)
{
    if (!smtpd_proto_ehlo_discarded(keyword))
        argv_add(lines, text);
}

static int
smtpd_proto_ehlo(SMTPD_STATE *state, int argc, char **argv)
{
    ARGV   *lines = argv_alloc();
    char    size[64];

    smtpd_proto_set_helo(state, "ESMTP");
    if (smtpd_proto_helo_restrict(state) != 0) {
        argv_free(lines);
        return -1;
    }
    char   *first = mem_printf("250 %s", var_myhostname);
    argv_add(lines, first);
    mem_free(first);
    smtpd_proto_ehlo_add(lines, "pipelining", "250 PIPELINING");
    if (var_message_limit > 0)
        snprintf(size, sizeof(size), "250 SIZE %ld", var_message_limit);
    else
        snprintf(size, sizeof(size), "250 SIZE");
    smtpd_proto_ehlo_add(lines, "size", size);
    if (!var_disable_vrfy_cmd)
        smtpd_proto_ehlo_add(lines, "vrfy", "250 VRFY");
    smtpd_proto_ehlo_add(lines, "etrn", "250 ETRN");
    if (smtpd_tls_offer(state))
        smtpd_proto_ehlo_add(lines, "starttls", "250 STARTTLS");
    smtpd_sasl_ehlo(state, lines);      /* AUTH (discard keyword "auth": there) */
    if (smtpd_xforward_allowed(state))
        smtpd_proto_ehlo_add(lines, "xforward", "250 XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT");
    smtpd_proto_ehlo_add(lines, "enhancedstatuscodes", "250 ENHANCEDSTATUSCODES");
    smtpd_proto_ehlo_add(lines, "8bitmime", "250 8BITMIME");
    smtpd_proto_ehlo_add(lines, "dsn", "250 DSN");
    if (var_smtputf8_enable)
        smtpd_proto_ehlo_add(lines, "smtputf8", "250 SMTPUTF8");
    smtpd_proto_ehlo_add(lines, "chunking", "250 CHUNKING");
    smtpd_chat_reply_multi(state, lines);
    argv_free(lines);
    return 0;
}

static int
smtpd_proto_check_mail(SMTPD_STATE *state, int argc, char **argv)
{
    if (state->sender != NULL) {
        smtpd_chat_reply(state, "503 5.5.1 Error: nested MAIL command");
        return -1;
    }
    return 0;
}

static int
smtpd_proto_mail(SMTPD_STATE *state, int argc, char **argv)
{
    const char *arg = smtpd_esmtp_keyword(STR(state->buffer), "FROM:");
    const char *params;
    VSTRING *addr = vstring_alloc(ADDRESS_MAX);
    VSTRING *reply = vstring_alloc(1024);
    SMTPD_MAIL_ARGS margs;
    int     ret = -1;

    if (arg == NULL || *arg == 0) {
        smtpd_chat_reply(state, "501 5.5.4 Syntax: MAIL FROM:<address>");
    } else if (smtpd_anvil_mail(state) != 0) {                  /* anvil: replied 450 */
    } else if (address_parse_smtp(arg, addr, &params) != 0) {
        smtpd_chat_log_bad_address(state, "MAIL", arg);
        smtpd_chat_reply(state, "501 5.1.7 Bad sender address syntax");
    } else if (smtpd_esmtp_mail_args(params, &margs, var_message_limit,
                                     reply) != 0) {
        smtpd_chat_reply(state, "%s", STR(reply));
    } else {
        state->sender = mem_strdup(STR(addr));
        state->msg_size = margs.size;
        state->encoding = margs.body;
        state->dsn_ret = margs.ret;
        state->dsn_envid = margs.envid;
        state->smtputf8 = margs.smtputf8;
        smtpd_sasl_mail_opt(state, margs.auth);
        if (smtpd_check_mail_stage(state, reply) != 0        /* restrictions */
            || smtpd_space_check(state, reply) != 0         /* queue_minfree */
            || smtpd_milter_mail(state, params, reply) != 0) {  /* smtpd_milters */
            smtpd_chat_reply(state, "%s", STR(reply));
            smtpd_state_mail_reset(state);
        } else {
            gettimeofday(&state->arrival, NULL);
            smtpd_chat_reply(state, "250 2.1.0 Ok");
            ret = 0;
        }
    }
    vstring_free(addr);
    vstring_free(reply);
    return ret;
}

static int
smtpd_proto_check_rcpt(SMTPD_STATE *state, int argc, char **argv)
{
    if (state->sender == NULL) {
        smtpd_chat_reply(state, "503 5.5.1 Error: need MAIL command");
        return -1;
    }
    if (state->bdat_active) {
        smtpd_chat_reply(state, "503 5.5.1 Error: RCPT after BDAT");
        return -1;
    }
    return 0;
}

/* Accepted recipient: into the queue file (opened now if needed). */
static int
smtpd_proto_rcpt_accept(SMTPD_STATE *state, const char *rcpt, const SMTPD_RCPT_ARGS *rargs)
{
    if (state->cleanup == NULL && state->queue_id == NULL
        && smtpd_cleanup_open(state) != 0) {
        smtpd_cleanup_abort(state);
        return -1;
    }
    if (smtpd_cleanup_rcpt(state, rcpt, rargs) != 0)
        return -1;
    state->rcpt_count++;
    mem_free(state->recipient);
    state->recipient = mem_strdup(rcpt);
    return 0;
}

static int
smtpd_proto_rcpt(SMTPD_STATE *state, int argc, char **argv)
{
    const char *arg = smtpd_esmtp_keyword(STR(state->buffer), "TO:");
    const char *params;
    VSTRING *addr = vstring_alloc(ADDRESS_MAX);
    VSTRING *reply = vstring_alloc(1024);
    SMTPD_RCPT_ARGS rargs;
    int     ret = -1;

    memset(&rargs, 0, sizeof(rargs));
    if (arg == NULL || *arg == 0) {
        smtpd_chat_reply(state, "501 5.5.4 Syntax: RCPT TO:<address>");
    } else if (smtpd_anvil_rcpt(state) != 0) {                  /* anvil: replied 450 */
    } else if (address_parse_smtp(arg, addr, &params) != 0 || LEN(addr) == 0) {
        smtpd_chat_log_bad_address(state, "RCPT", arg);
        smtpd_chat_reply(state, "501 5.1.3 Bad recipient address syntax");
    } else if (smtpd_esmtp_rcpt_args(params, &rargs, reply) != 0) {
        smtpd_chat_reply(state, "%s", STR(reply));
    } else if (state->rcpt_count >= var_smtpd_rcpt_limit) {
        smtpd_chat_reply(state, "452 4.5.3 Error: too many recipients");
    } else {
        state->cur_rcpt = STR(addr);
        if (smtpd_check_rcpt(state, STR(addr), reply) != 0
            || smtpd_milter_rcpt(state, STR(addr), params, reply) != 0) {
            smtpd_chat_reply(state, "%s", STR(reply));
        } else if (smtpd_proto_rcpt_accept(state, STR(addr), &rargs) != 0) {
            smtpd_chat_reply(state, "451 4.3.0 Error: queue file write error");
        } else {
            smtpd_chat_reply(state, "250 2.1.5 Ok");
            ret = 0;
        }
        state->cur_rcpt = NULL;
    }
    smtpd_esmtp_rcpt_args_free(&rargs);
    vstring_free(addr);
    vstring_free(reply);
    return ret;
}

static int
smtpd_proto_rset(SMTPD_STATE *state, int argc, char **argv)
{
    if (argc != 1) {
        smtpd_chat_reply(state, "501 5.5.4 Syntax: RSET");
        return -1;
    }
    smtpd_state_mail_reset(state);
    smtpd_chat_reply(state, "250 2.0.0 Ok");
    return 0;
}

static int
smtpd_proto_noop(SMTPD_STATE *state, int argc, char **argv)
{
    smtpd_chat_reply(state, "250 2.0.0 Ok");
    return 0;
}

static int
smtpd_proto_vrfy(SMTPD_STATE *state, int argc, char **argv)
{
    VSTRING *addr, *reply;
    int     ret = -1;

    if (var_disable_vrfy_cmd) {
        smtpd_chat_reply(state, "502 5.5.1 VRFY command is disabled");
        return -1;
    }
    if (argc < 2) {
        smtpd_chat_reply(state, "501 5.5.4 Syntax: VRFY address%s",
                         var_smtputf8_enable ? " [SMTPUTF8]" : "");
        return -1;
    }
    addr = vstring_alloc(ADDRESS_MAX);
    reply = vstring_alloc(1024);
    if (address_parse_smtp(smtpd_proto_rest(state), addr, NULL) != 0 || LEN(addr) == 0) {
        smtpd_chat_log_bad_address(state, "VRFY", smtpd_proto_rest(state));
        smtpd_chat_reply(state, "501 5.1.3 Bad recipient address syntax");
    } else {
        state->cur_rcpt = STR(addr);
        if (smtpd_check_vrfy(state, STR(addr), reply) != 0) {
            smtpd_chat_reply(state, "%s", STR(reply));
        } else {
            smtpd_chat_reply(state, "252 2.0.0 %s", smtpd_proto_rest(state));
            ret = 0;
        }
        state->cur_rcpt = NULL;
    }
    vstring_free(addr);
    vstring_free(reply);
    return ret;
}

/* ETRN: smtpd_etrn_restrictions, then the fast flush service sends the
 * domain's deferred mail (flush_clnt.h); replies as Postfix. */
static int
smtpd_proto_etrn(SMTPD_STATE *state, int argc, char **argv)
{
    const char *domain;
    VSTRING *reply;
    int     st;

    if (state->helo_name == NULL) {
        smtpd_chat_reply(state, "503 Error: send HELO/EHLO first");
        return -1;
    }
    if (state->sender != NULL) {
        smtpd_chat_reply(state, "503 Error: MAIL transaction in progress");
        return -1;
    }
    if (argc != 2) {
        smtpd_chat_reply(state, "500 Syntax: ETRN domain");
        return -1;
    }
    /* "@domain" and "#domain" are the RFC 1985 forms of a domain */
    domain = argv[1] + (argv[1][0] == '@' || argv[1][0] == '#');
    /* as before the one validator: a numeric name and '-' anywhere pass */
    if (!valid_hostname(domain, VALID_HOSTNAME_NUMERIC | VALID_HOSTNAME_ANY_HYPHEN)) {
        smtpd_chat_reply(state, "501 Error: invalid parameter syntax");
        return -1;
    }
    reply = vstring_alloc(512);
    if (smtpd_check_etrn_stage(state, domain, reply) != 0) {
        smtpd_chat_reply(state, "%s", STR(reply));
        vstring_free(reply);
        return -1;
    }
    vstring_free(reply);
    switch (st = flush_clnt_send_site(domain)) {
    case FLUSH_STAT_OK:
        smtpd_chat_reply(state, "250 Queuing started");
        return 0;
    case FLUSH_STAT_DENY:
        smtpd_chat_reply(state, "459 <%s>: service unavailable", domain);
        return -1;
    default:
        smtpd_chat_reply(state, "458 Unable to queue messages");
        return -1;
    }
}

static int
smtpd_proto_quit(SMTPD_STATE *state, int argc, char **argv)
{
    smtpd_chat_reply(state, "221 2.0.0 Bye");
    state->quit = 1;
    return 0;
}

static const SMTPD_CMD smtpd_cmd_table[] = {
    {"HELO", SMTPD_CMD_HELO, smtpd_proto_check_helo, smtpd_proto_helo, 0},
    {"EHLO", SMTPD_CMD_EHLO, smtpd_proto_check_helo, smtpd_proto_ehlo, 0},
    {"STARTTLS", SMTPD_CMD_STARTTLS, NULL, smtpd_tls_starttls, 0},
    {"XFORWARD", SMTPD_CMD_XFORWARD, NULL, smtpd_xforward_cmd, 0},
    {"AUTH", SMTPD_CMD_AUTH, NULL, smtpd_sasl_auth_cmd, 0},
    {"MAIL", SMTPD_CMD_MAIL, smtpd_proto_check_mail, smtpd_proto_mail, 0},
    {"RCPT", SMTPD_CMD_RCPT, smtpd_proto_check_rcpt, smtpd_proto_rcpt, 0},
    {"DATA", SMTPD_CMD_DATA, NULL, smtpd_data_cmd, 0},
    {"BDAT", SMTPD_CMD_BDAT, NULL, smtpd_data_bdat_cmd, 0},
    {"RSET", SMTPD_CMD_RSET, NULL, smtpd_proto_rset, 1},
    {"NOOP", SMTPD_CMD_NOOP, NULL, smtpd_proto_noop, 1},
    {"VRFY", SMTPD_CMD_VRFY, NULL, smtpd_proto_vrfy, 1},
    {"ETRN", SMTPD_CMD_ETRN, NULL, smtpd_proto_etrn, 1},
    {"QUIT", SMTPD_CMD_QUIT, NULL, smtpd_proto_quit, 0},
    {0, 0, 0, 0, 0},
};

/*
 * smtpd_forbidden_commands: a verb listed by name (any case), or found in
 * a listed table, ends the session; so does a verb that looks like a
 * message header ("Subject:"), as when a client sends mail content
 * without DATA. Tables of a type posthorn cannot open are skipped.
 */
static int
smtpd_proto_forbidden(const char *verb)
{
    ARGV   *names = smtpd_conf.forbidden_commands;
    size_t  len = strlen(verb);
    const char *value;

    if (len > 1 && verb[len - 1] == ':')
        return 1;
    for (size_t i = 0; i < names->argc; i++)
        if (strcasecmp(names->argv[i], verb) == 0)
            return 1;
    for (size_t i = 0; i < smtpd_conf.forbidden_dict_count; i++)
        if (dict_get(smtpd_conf.forbidden_dicts[i], verb, &value) == MAP_FOUND)
            return 1;
    return 0;
}

/* One command line. */
static void
smtpd_proto_dispatch(SMTPD_STATE *state)
{
    ARGV   *args = argv_split(STR(state->buffer), " \t");
    const SMTPD_CMD *cmd;
    int     st;

    if (args->argc == 0) {
        state->where = "UNKNOWN";
        smtpd_chat_reply(state, "500 5.5.2 Error: bad syntax");
        state->stat_total[SMTPD_CMD_UNKNOWN]++;
        argv_free(args);
        return;
    }
    if (smtpd_proto_forbidden(args->argv[0])) {
        msg_warn("non-SMTP command from %s: %s", state->namaddr, STR(state->buffer));
        smtpd_chat_reply(state, "221 2.7.0 Error: I can break rules, too. Goodbye.");
        state->stat_total[SMTPD_CMD_UNKNOWN]++;
        state->quit = 1;
        argv_free(args);
        return;
    }
    for (cmd = smtpd_cmd_table; cmd->name; cmd++)
        if (strcasecmp(cmd->name, args->argv[0]) == 0)
            break;
    if (cmd->name == NULL) {
        state->where = "UNKNOWN";
        smtpd_milter_unknown(state);                    /* smtpd_milters */
        smtpd_chat_reply(state, "500 5.5.2 Error: command not recognized");
        state->stat_total[SMTPD_CMD_UNKNOWN]++;
        argv_free(args);
        return;
    }
    if (smtpd_check_denied(state) && cmd->stat != SMTPD_CMD_QUIT) {     /* restrictions */
        smtpd_chat_reply(state, "503 5.7.0 Error: access denied for %s", state->namaddr);
        state->stat_total[cmd->stat]++;
        argv_free(args);
        return;
    }
    if (smtpd_milter_denied(state) && cmd->stat != SMTPD_CMD_QUIT      /* milter at connect */
        && cmd->stat != SMTPD_CMD_NOOP && cmd->stat != SMTPD_CMD_RSET) {
        smtpd_chat_reply(state, "%s", smtpd_milter_denied(state));
        state->stat_total[cmd->stat]++;
        argv_free(args);
        return;
    }
    if (smtpd_tls_required(state, cmd->stat) != 0) {                    /* 530 */
        state->stat_total[cmd->stat]++;
        argv_free(args);
        return;
    }
    state->where = cmd->name;
    /* smtpd_junk_command_limit: past it, every junk command is an error,
     * so a client cannot keep a session open with NOOPs for ever */
    if (cmd->junk && ++state->junk_count > var_smtpd_junk_cmd_limit)
        state->error_count++;
    st = cmd->check ? cmd->check(state, (int) args->argc, args->argv) : 0;
    if (st == 0)
        st = cmd->action(state, (int) args->argc, args->argv);
    state->stat_total[cmd->stat]++;
    if (st == 0)
        state->stat_ok[cmd->stat]++;
    argv_free(args);
}

void
smtpd_proto_session(SMTPD_STATE *state)
{
    int     bare_lf, st;

    if (state->bare_lf_mode != SMTPD_BARE_LF_NO
        && netmatch_match(smtpd_conf.bare_lf_exclusions, state->name, state->addr) > 0)
        state->bare_lf_mode = SMTPD_BARE_LF_NO;
    stream_set_timeout(state->client, (int) var_smtpd_tmout);
    msg_info("connect from %s", state->namaddr);
    VSTRING *reply = vstring_alloc(1024);
    if (smtpd_tls_wrapper(state) != 0) {                        /* SMTPS: no TLS, no session */
    } else if (smtpd_anvil_connect(state, reply) != 0           /* anvil: 421, quit */
        || smtpd_check_connect(state, reply) != 0)              /* restrictions */
        smtpd_chat_reply(state, "%s", STR(reply));
    else if (smtpd_milter_connect(state), smtpd_milter_denied(state)
             && strncmp(smtpd_milter_denied(state), "421", 3) == 0) {
        smtpd_chat_reply(state, "%s", smtpd_milter_denied(state));    /* milter: shutdown */
        state->quit = 1;
    } else
        smtpd_chat_reply(state, "220 %s", var_smtpd_banner);
    vstring_free(reply);
    while (!state->quit) {
        if (state->error_count >= var_smtpd_hard_erlim) {
            smtpd_chat_reply(state, "421 4.7.0 %s Error: too many errors", var_myhostname);
            smtpd_chat_log_lost(state, "too many errors");
            break;
        }
        if ((st = smtpd_chat_read_command(state, &bare_lf)) <= 0) {
            if (st < 0) {
                smtpd_chat_reply_timeout(state);
                smtpd_chat_log_lost(state, "timeout");
            } else {
                smtpd_chat_log_lost(state, "lost connection");
            }
            break;
        }
        if (bare_lf && state->bare_lf_mode == SMTPD_BARE_LF_REJECT) {
            smtpd_chat_reply(state, "%ld 5.5.2 %s Error: bare <LF> received",
                             var_smtpd_bare_lf_code, var_myhostname);
            msg_info("bare <LF> received after %s from %s", state->where, state->namaddr);
            break;
        }
        smtpd_proto_dispatch(state);
    }
    smtpd_chat_flush(state);
    smtpd_state_mail_reset(state);
    smtpd_chat_log_disconnect(state);
    smtpd_anvil_disconnect(state);
}
