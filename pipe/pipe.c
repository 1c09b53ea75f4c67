/*
 * pipe.c - main() of the pipe delivery agent and one delivery request.
 *
 * Interface: run by master as "name unix - n n - - pipe flags=...
 * user=... argv=..." (root: the skeleton keeps root for the command's
 * ids). pre_init parses the master.cf attributes (pipe_attr.c; a bad one
 * is fatal, as in Postfix) and reads the parameters once:
 * export_environment, recipient_delimiter, command_time_limit and
 * <service>_time_limit. Each connection is one request
 * (deliver_request_serve): a message over size= bounces 5.2.3 "message
 * too large"; flags D or
 * O with more than one recipient defer (a configuration error: they need
 * <service>_destination_recipient_limit = 1); with D, a message that
 * has "Delivered-To: <recipient>" already bounces 5.4.6 "mail forwarding
 * loop for <recipient>" (Postfix 2.5 and later); otherwise the command runs
 * once for all recipients of the request and its verdict is every
 * recipient's: "relay=<service>, ... status=sent (delivered via <service>
 * service)", or the reason from pipe_command.c.
 *
 * SECURITY: see pipe.h: the command never runs as root or mail_owner.
 *
 * DIAGNOSTICS: fatal at start-up for a bad attribute or parameter; the
 * D/O recipient-limit misconfiguration is a warning per request.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "command_attr.h"
#include "config.h"
#include "mem.h"
#include "msg.h"
#include "pipe.h"
#include "server.h"

#define PIPE_PATH "/usr/bin:/bin"     /* as Postfix's pipe sets it */

static PIPE_ATTR pipe_attr;
static char *pipe_service_name;
static long pipe_time_limit;
static ARGV *pipe_env;

static long var_command_time_limit;
static const char *var_export_environment;
static const char *var_recipient_delimiter;

static const CONFIG_VAR pipe_vars[] = {
    CONFIG_VAR_TIME("command_time_limit", &var_command_time_limit),
    CONFIG_VAR_STR("export_environment", &var_export_environment),
    CONFIG_VAR_STR("recipient_delimiter", &var_recipient_delimiter),
    CONFIG_VAR_END,
};

#define PIPE_MAX_DELIVERED_TO 100         /* as local's */

/* The same verdict for every recipient of the request. */
static void
pipe_result_all(DELIVER_REQUEST *req, int status, const char *dsn, const char *why)
{
    double  xfer = deliver_now() - req->agent_time;

    for (int i = 0; i < req->rcpt_count; i++)
        deliver_result(req, i, status, dsn, pipe_service_name, 0, xfer < 0 ? 0 : xfer,
                       "%s", why);
}

static void
pipe_deliver(DELIVER_REQUEST *req, void *unused)
{
    VSTRING *dsn = vstring_alloc(16), *why = vstring_alloc(DELIVER_REASON_MAX);
    int    *rcpts = mem_alloc(sizeof(int) * (size_t) (req->rcpt_count ? req->rcpt_count : 1));
    PIPE_EXPAND x = {req, rcpts, req->rcpt_count, pipe_attr.flags, pipe_attr.null_sender,
        var_recipient_delimiter};
    PIPE_RUN run = {&pipe_attr, NULL, pipe_env, pipe_time_limit, req, NULL, NULL};
    int     status;

    for (int i = 0; i < req->rcpt_count; i++)
        rcpts[i] = i;
    vstring_sprintf(why, "delivered via %s service", pipe_service_name);
    if (req->trace_flags & DELIVER_TRACE_VERIFY) {
        pipe_result_all(req, DELIVER_SENT, "2.0.0", STR(why));
    } else if (pipe_attr.size_limit > 0 && req->size > pipe_attr.size_limit) {
        pipe_result_all(req, DELIVER_BOUNCE, "5.2.3", "message too large");
    } else if (req->rcpt_count > 1
               && (pipe_attr.flags & (PIPE_FLAG_DELIVERED | PIPE_FLAG_ORIG_RCPT))) {
        msg_warn("pipe flag `%c' requires %s_destination_recipient_limit = 1",
                 (pipe_attr.flags & PIPE_FLAG_DELIVERED) ? 'D' : 'O', pipe_service_name);
        pipe_result_all(req, DELIVER_DEFER, "4.3.5", "mail system configuration error");
    } else if ((pipe_attr.flags & PIPE_FLAG_DELIVERED)
               && deliver_loop_found(req, req->rcpt[0].address, PIPE_MAX_DELIVERED_TO)) {
        vstring_sprintf(why, "mail forwarding loop for %s", req->rcpt[0].address);
        pipe_result_all(req, DELIVER_BOUNCE, "5.4.6", STR(why));
    } else {
        const DELIVER_RCPT *r = &req->rcpt[0];

        run.delivered = r->address;
        run.orig_rcpt = r->orig_rcpt && *r->orig_rcpt ? r->orig_rcpt : r->address;
        run.argv = pipe_expand_argv(pipe_attr.argv, &x);
        status = pipe_command_run(&run, dsn, why);
        pipe_result_all(req, status, status == DELIVER_SENT ? "2.0.0" : STR(dsn), STR(why));
        argv_free(run.argv);
    }
    mem_free(rcpts);
    vstring_free(dsn);
    vstring_free(why);
}

static void
pipe_service(STREAM *client)
{
    deliver_request_serve(client, pipe_deliver, NULL);
}

/* The exported variables that we have, and PATH. */
static ARGV *
pipe_environment(void)
{
    ARGV   *env = command_environment(var_export_environment);

    for (size_t i = 0; i < env->argc; i++)
        if (strncmp(env->argv[i], "PATH=", 5) == 0)
            return env;
    argv_add(env, "PATH=" PIPE_PATH);
    return env;
}

static void
pipe_pre_init(const char *service, ARGV *args)
{
    VSTRING *why = vstring_alloc(1024);
    uid_t   owner_uid;
    gid_t   owner_gid;

    config_read_vars(pipe_vars);
    priv_mail_owner(&owner_uid, &owner_gid);
    if (pipe_attr_parse(args, owner_uid, &pipe_attr, why) != 0)
        msg_fatal("service %s: %s", service, STR(why));
    pipe_service_name = mem_strdup(service);
    pipe_time_limit = command_time_limit(service, var_command_time_limit);
    pipe_env = pipe_environment();
    vstring_free(why);
}

int
main(int argc, char **argv)
{
    static const SERVER_OPTS opts = {
        .pre_init = pipe_pre_init,
        .keep_root = 1,
    };

    msg_init("pipe", 0);
    single_server_main(argc, argv, pipe_service, &opts);
}
