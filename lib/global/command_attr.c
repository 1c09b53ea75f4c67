/*
 * command_attr.c - see command_attr.h.
 *
 * SECURITY: command_user_parse() is what keeps a master.cf command from
 * running as root or as the mail system owner.
 *
 * DIAGNOSTICS: fatal for a per-service time limit below 1 second (at
 * start-up); the user= and argv= errors are returned to the caller.
 */
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "command_attr.h"
#include "config.h"
#include "mem.h"
#include "msg.h"

int
command_user_parse(const char *value, uid_t owner_uid, COMMAND_USER *u, VSTRING *why)
{
    char   *name = mem_strdup(value);
    char   *group = strchr(name, ':');
    struct passwd *pw;
    struct group *gr = NULL;

    if (group)
        *group++ = 0;
    if (*name == 0 || (pw = getpwnam(name)) == NULL)
        vstring_sprintf(why, "unknown user name: %s", name);
    else if (group && (*group == 0 || (gr = getgrnam(group)) == NULL))
        vstring_sprintf(why, "unknown group name: %s", group);
    else if (pw->pw_uid == 0)
        vstring_strcpy(why, "user= command-line attribute specifies root privileges");
    else if (pw->pw_uid == owner_uid)
        vstring_sprintf(why, "user= command-line attribute specifies mail system owner %s",
                        name);
    else if ((gr ? gr->gr_gid : pw->pw_gid) == 0)
        vstring_strcpy(why, "user= command-line attribute specifies privileged group id 0");
    else {
        u->uid = pw->pw_uid;
        u->gid = gr ? gr->gr_gid : pw->pw_gid;
        u->name = name;
        return 0;
    }
    mem_free(name);
    return -1;
}

ARGV   *
command_argv(const ARGV *args, size_t i)
{
    ARGV   *argv = argv_alloc();

    if (args->argv[i][5])
        argv_add(argv, args->argv[i] + 5);
    for (i++; i < args->argc; i++)
        argv_add(argv, args->argv[i]);
    return argv;
}

int
command_attr_required(const char *user, const ARGV *argv, VSTRING *why)
{
    if (user == NULL) {
        vstring_strcpy(why, "missing user= command-line attribute");
        return -1;
    }
    if (argv == NULL || argv->argc == 0) {
        vstring_strcpy(why, "missing argv= command-line attribute");
        return -1;
    }
    return 0;
}

/*
 * The name is made from the master.cf service, so it may have no entry in
 * lib/params.c: its minimum (1s, as command_time_limit's) is checked
 * here, fatal with the same words as the table's bounds.
 */
long
command_time_limit(const char *service, long dflt)
{
    char   *name = mem_printf("%s_time_limit", service);
    long    secs = dflt;

    if (config_lookup(name) != NULL && (secs = config_time(name)) < 1)
        msg_fatal("invalid %s parameter value %ld < %d", name, secs, 1);
    mem_free(name);
    return secs;
}

ARGV   *
command_environment(const char *export_list)
{
    ARGV   *export = argv_split_list(export_list);
    ARGV   *env = argv_alloc();
    size_t  i;

    for (i = 0; i < export->argc; i++) {
        const char *value = getenv(export->argv[i]);

        if (value && strchr(export->argv[i], '=') == NULL)
            argv_add_owned(env, mem_printf("%s=%s", export->argv[i], value));
    }
    argv_free(export);
    return env;
}
