/*
 * maillog.c - the rules for $maillog_file (maillog.h).
 *
 * A prefix is compared as plain text ("/var" also admits "/variable").
 * The permissions are octal; only 0600, 0640 and 0644 are accepted.
 *
 * SECURITY: postlogd opens maillog_file as root, so a name outside the
 * prefixes an administrator allowed (say, /etc/passwd through a typo or
 * a hostile main.cf fragment) must never get that far.
 *
 * DIAGNOSTICS: none; a bad file name or mode is returned as a reason text
 * (msg.c logs it as a warning).
 */
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "maillog.h"
#include "mem.h"

int
maillog_prefix_ok(const char *path, const char *prefixes)
{
    ARGV   *list = argv_split_list(prefixes ? prefixes : "");
    size_t  i;
    int     ok = 0;

    for (i = 0; i < list->argc && !ok; i++)
        ok = strncmp(path, list->argv[i], strlen(list->argv[i])) == 0;
    argv_free(list);
    return ok;
}

int
maillog_mode(const char *perms)
{
    char   *end;
    long    mode;

    if (perms == NULL || *perms == 0)
        return -1;
    mode = strtol(perms, &end, 8);
    if (*end != 0 || (mode != 0600 && mode != 0640 && mode != 0644))
        return -1;
    return (int) mode;
}

char   *
maillog_check(const char *file, const char *prefixes, const char *perms, int *mode)
{
    int     m;

    if (file == NULL || *file == 0)
        return NULL;
    if (*file != '/')
        return mem_printf("maillog_file \"%s\" is not an absolute path", file);
    if (!maillog_prefix_ok(file, prefixes))
        return mem_printf("maillog_file \"%s\" does not start with one of the "
                          "maillog_file_prefixes (%s)", file, prefixes ? prefixes : "");
    if (perms == NULL)
        return NULL;
    if ((m = maillog_mode(perms)) < 0)
        return mem_printf("invalid maillog_file_permissions value \"%s\": "
                          "specify 0600, 0640 or 0644", perms);
    if (mode)
        *mode = m;
    return NULL;
}
