/*
 * command_attr.h - the parts of a master.cf command service (spawn(8),
 * pipe(8)) that do not depend on the service:
 *
 *   command_user_parse()    "user=name[:group]": the ids; never root, the
 *                           mail_owner, or group id 0 (Postfix's words in why)
 *   command_argv()          "argv=command args...": the rest of the line
 *   command_attr_required() user= and argv= are both required
 *   command_time_limit()    <service>_time_limit, else dflt
 *                           ($command_time_limit); a value below 1s is fatal
 *   command_environment()   "NAME=value" for the variables named in
 *                           export_list that this process has
 *
 * DIAGNOSTICS: command_time_limit() is fatal on a bad value (with the
 * parameter's name); the others return problems to the caller.
 */
#ifndef POSTHORN_COMMAND_ATTR_H
#define POSTHORN_COMMAND_ATTR_H

#include <sys/types.h>

#include "argv.h"
#include "vstring.h"

typedef struct COMMAND_USER {
    uid_t   uid;
    gid_t   gid;                /* the user's, or user=name:group's */
    char   *name;               /* the user name alone (initgroups) */
} COMMAND_USER;

/* 0 with u filled (u->name allocated), or -1 with why. */
int     command_user_parse(const char *value, uid_t owner_uid, COMMAND_USER *u, VSTRING *why);
/* "argv=command" at args[i] and every later argument: the command's. */
ARGV   *command_argv(const ARGV *args, size_t i);
/* Both user= and a non-empty argv= given? 0, or -1 with why. */
int     command_attr_required(const char *user, const ARGV *argv, VSTRING *why);
long    command_time_limit(const char *service, long dflt);
ARGV   *command_environment(const char *export_list);

#endif
