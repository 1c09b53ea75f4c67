/*
 * spawn.h - private interface of the spawn daemon's modules.
 *
 *   spawn.c          main(): the single-server skeleton, pre_init
 *   spawn_command.c  command attributes (user=, argv=), the time limit,
 *                    and running the command on a client connection
 *
 * SECURITY: the attributes come from master.cf (root's); the client
 * connection is untrusted but is only handed to the command as its
 * standard input, output and error. The command never runs as root or as
 * the mail system owner.
 *
 * DIAGNOSTICS: fatal at start for bad arguments or parameters; at run time
 * a command that fails, dies or runs too long is a warning.
 */
#ifndef POSTHORN_SPAWN_H
#define POSTHORN_SPAWN_H

#include <sys/types.h>

#include "argv.h"
#include "vstring.h"

typedef struct SPAWN_ATTR {
    char   *user;               /* user= name (for logs) */
    uid_t   uid;
    gid_t   gid;                /* the user's, or user=name:group's */
    ARGV   *argv;               /* argv=command args... */
    long    time_limit;         /* <service>_time_limit or $command_time_limit */
    ARGV   *env;                /* "NAME=value" from export_environment */
} SPAWN_ATTR;

/*
 * Parse the master.cf attributes; 0, or -1 with the reason in why.
 * owner_uid is $mail_owner's uid (refused like root).
 */
int     spawn_parse_attr(ARGV *args, uid_t owner_uid, SPAWN_ATTR *attr, VSTRING *why);
/* Run the command on fd (stdin, stdout, stderr), wait for it, log the outcome. */
void    spawn_run(const SPAWN_ATTR *attr, int fd);
void    spawn_attr_free(SPAWN_ATTR *attr);

#endif
