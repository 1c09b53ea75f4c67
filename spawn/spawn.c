/*
 * spawn.c - the external command spawner: main() only.
 *
 * master.cf: "policy unix - n n - - spawn user=nobody argv=/path args".
 * master runs it as root (unprivileged column "n"); each client
 * connection gets a new process running the command as user= with the
 * connection as its standard input, output and error (spawn_command.c).
 * The attributes are checked once at start-up: a bad one is fatal, and
 * master throttles the service.
 *
 * SECURITY: stays root only to switch to user= in each command child;
 * the attributes are root's (master.cf).
 *
 * DIAGNOSTICS: fatal at start: a bad parameter value (config_read_vars)
 * and bad user=/argv= service arguments; the skeleton's start-up problems
 * (server.c).
 */
#include "command_attr.h"
#include "config.h"
#include "msg.h"
#include "privs.h"
#include "server.h"
#include "spawn.h"
#include "stream.h"

static SPAWN_ATTR spawn_attr;

/* The parameters, read once in pre_init (spawn restarts on reload). */
static long var_command_maxtime;
static const char *var_export_environ;

static const CONFIG_VAR spawn_vars[] = {
    CONFIG_VAR_TIME("command_time_limit", &var_command_maxtime),
    CONFIG_VAR_STR("export_environment", &var_export_environ),
    CONFIG_VAR_END,
};

static void
spawn_service(STREAM *client)
{
    spawn_run(&spawn_attr, stream_fd(client));
}

static void
spawn_pre_init(const char *service, ARGV *args)
{
    VSTRING *why = vstring_alloc(256);
    uid_t   owner_uid;
    gid_t   owner_gid;

    config_read_vars(spawn_vars);
    priv_mail_owner(&owner_uid, &owner_gid);
    if (spawn_parse_attr(args, owner_uid, &spawn_attr, why) != 0)
        msg_fatal("%s", STR(why));
    spawn_attr.time_limit = command_time_limit(service, var_command_maxtime);
    spawn_attr.env = command_environment(var_export_environ);
    vstring_free(why);
}

int
main(int argc, char **argv)
{
    static const SERVER_OPTS opts = {
        .pre_init = spawn_pre_init,
        .keep_root = 1,
    };

    msg_init("spawn", 0);
    single_server_main(argc, argv, spawn_service, &opts);
}
