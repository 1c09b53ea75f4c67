/*
 * pipe_attr.c - the master.cf attributes of a pipe service.
 *
 * Interface (pipe.h): pipe_attr_parse() reads "flags=letters",
 * "user=name[:group]" (required), "size=bytes", "eol=string" (\n
 * default; \r \n \t \\ decoded), "null_sender=text" (MAILER-DAEMON),
 * "directory=path" and "argv=command args..." (required, last: every
 * later argument belongs to the command). Anything else is an error, as
 * in Postfix. pipe_flags_parse() maps the flags= letters.
 *
 * SECURITY: user= never names root, the mail_owner, or a group id 0;
 * those are errors (the caller makes them fatal, as Postfix's pipe).
 *
 * DIAGNOSTICS: every problem is returned in why; nothing is logged here.
 */
#include <stdlib.h>
#include <string.h>

#include "command_attr.h"
#include "mem.h"
#include "pipe.h"

int
pipe_flags_parse(const char *letters, int *flags, VSTRING *why)
{
    static const char names[] = "FORDXhqu.>B";
    const char *p, *at;

    for (p = letters; *p; p++) {
        if ((at = strchr(names, *p)) == NULL) {
            vstring_sprintf(why, "unknown flag: %c", *p);
            return -1;
        }
        *flags |= 1 << (at - names);
    }
    return 0;
}

/* user= through command_user_parse(): 0 or -1 with why. */
static int
pipe_parse_user(const char *value, uid_t owner_uid, PIPE_ATTR *attr, VSTRING *why)
{
    COMMAND_USER u;

    if (command_user_parse(value, owner_uid, &u, why) != 0)
        return -1;
    attr->uid = u.uid;
    attr->gid = u.gid;
    attr->user_name = u.name;
    attr->user = mem_strdup(value);
    return 0;
}

/* eol= with its escapes decoded. */
static char *
pipe_eol_decode(const char *value)
{
    VSTRING *out = vstring_alloc(strlen(value) + 1);
    const char *p;

    for (p = value; *p; p++) {
        if (*p != '\\' || p[1] == 0) {
            vstring_addch(out, *p);
            continue;
        }
        switch (*++p) {
        case 'n':
            vstring_addch(out, '\n');
            break;
        case 'r':
            vstring_addch(out, '\r');
            break;
        case 't':
            vstring_addch(out, '\t');
            break;
        default:
            vstring_addch(out, *p);
        }
    }
    return vstring_export(out);
}

static int
pipe_attr_one(const char *arg, uid_t owner_uid, PIPE_ATTR *attr, VSTRING *why)
{
    char   *end;

    if (strncmp(arg, "flags=", 6) == 0)
        return pipe_flags_parse(arg + 6, &attr->flags, why);
    if (strncmp(arg, "user=", 5) == 0) {
        if (attr->user) {
            vstring_strcpy(why, "duplicate user= command-line attribute");
            return -1;
        }
        return pipe_parse_user(arg + 5, owner_uid, attr, why);
    }
    if (strncmp(arg, "size=", 5) == 0) {
        attr->size_limit = strtol(arg + 5, &end, 10);
        if (arg[5] == 0 || *end || attr->size_limit < 0) {
            vstring_sprintf(why, "bad size= command-line attribute: %s", arg + 5);
            return -1;
        }
        return 0;
    }
    if (strncmp(arg, "eol=", 4) == 0) {
        mem_free(attr->eol);
        attr->eol = pipe_eol_decode(arg + 4);
    } else if (strncmp(arg, "null_sender=", 12) == 0) {
        mem_free(attr->null_sender);
        attr->null_sender = mem_strdup(arg + 12);
    } else if (strncmp(arg, "directory=", 10) == 0) {
        mem_free(attr->directory);
        attr->directory = mem_strdup(arg + 10);
    } else {
        vstring_sprintf(why, "unknown attribute name: %s", arg);
        return -1;
    }
    return 0;
}

int
pipe_attr_parse(ARGV *args, uid_t owner_uid, PIPE_ATTR *attr, VSTRING *why)
{
    size_t  i;

    memset(attr, 0, sizeof(*attr));
    attr->eol = mem_strdup("\n");
    attr->null_sender = mem_strdup("MAILER-DAEMON");
    for (i = 0; i < args->argc; i++) {
        const char *arg = args->argv[i];

        if (strncmp(arg, "argv=", 5) == 0) {
            attr->argv = command_argv(args, i);
            break;
        }
        if (pipe_attr_one(arg, owner_uid, attr, why) != 0)
            return -1;
    }
    return command_attr_required(attr->user, attr->argv, why);
}

void
pipe_attr_free(PIPE_ATTR *attr)
{
    mem_free(attr->user);
    mem_free(attr->user_name);
    mem_free(attr->eol);
    mem_free(attr->null_sender);
    mem_free(attr->directory);
    argv_free(attr->argv);
    memset(attr, 0, sizeof(*attr));
}
