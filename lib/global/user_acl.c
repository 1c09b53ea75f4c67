/*
 * user_acl.c - user name lists (authorized_*_users); see user_acl.h.
 *
 * The list is walked once per call, entry by entry; tables are opened
 * when reached and closed again (the commands that ask make one check
 * per run).
 *
 * SECURITY: see user_acl.h. A table that fails refuses: a broken
 * lookup must not widen access.
 *
 * DIAGNOSTICS: nothing is fatal; a /file that cannot be opened or nests
 * too deeply, or a table lookup problem, is a warning naming the parameter
 * and makes the check fail (the user is refused).
 */
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "argv.h"
#include "maps.h"
#include "msg.h"
#include "user_acl.h"

#define USER_ACL_MAX_DEPTH  5
#define USER_ACL_NAME_MAX   256

static int user_acl_list(const char *title, const char *spec, const char *name, int depth);

/* A /file entry: its words are more entries. 1 / 0 / -1 as a list. */
static int
user_acl_file(const char *title, const char *path, const char *name, int depth)
{
    FILE   *fp;
    char    line[4096];
    int     st = 0;

    if (depth >= USER_ACL_MAX_DEPTH) {
        msg_warn("%s: %s: files nested too deeply", title, path);
        return -1;
    }
    if ((fp = fopen(path, "r")) == NULL) {
        msg_warn("%s: open %s: %m", title, path);
        return -1;
    }
    while (st == 0 && fgets(line, sizeof(line), fp) != NULL) {
        char   *hash = strchr(line, '#');

        if (hash)
            *hash = 0;
        st = user_acl_list(title, line, name, depth + 1);
    }
    fclose(fp);
    return st;
}

/* One entry without its '!': 1 match, 0 no match, -1 failure. */
static int
user_acl_entry(const char *title, const char *item, const char *name, int depth)
{
    const char *value;
    MAPS   *maps;
    int     st;

    if (*item == '/')
        return user_acl_file(title, item, name, depth);
    if (strchr(item, ':') == NULL)
        return strcasecmp(item, name) == 0;
    maps = maps_create(title, item, 0);
    st = maps_find(maps, name, &value);
    maps_free(maps);
    if (st == MAP_FAIL) {
        msg_warn("%s: %s: table lookup problem", title, item);
        return -1;
    }
    return st == MAP_FOUND;
}

/*
 * Walk one list: 1 allowed, -2 refused by a !entry, 0 no match, -1 a
 * failure. A /file that ends in a decision decides for the whole list.
 */
static int
user_acl_list(const char *title, const char *spec, const char *name, int depth)
{
    ARGV   *items = argv_split_list(spec);
    int     result = 0;

    for (size_t i = 0; i < items->argc && result == 0; i++) {
        const char *item = items->argv[i];
        int     negate = 0, st;

        while (*item == '!') {
            negate = !negate;
            item++;
        }
        if (*item == 0)
            continue;
        st = user_acl_entry(title, item, name, depth);
        if (st < 0)
            result = st;                /* -1 failure, -2 refused in a file */
        else if (st > 0)
            result = negate ? -2 : 1;
    }
    argv_free(items);
    return result;
}

int
user_acl_match(const char *title, const char *spec, const char *name)
{
    int     st;

    while (*spec == ' ' || *spec == '\t' || *spec == '\r' || *spec == '\n' || *spec == ',')
        spec++;
    if (strncmp(spec, "static:", 7) == 0)
        return 1;
    st = user_acl_list(title, spec, name, 0);
    return st == -1 ? -1 : st == 1;
}

const char *
user_acl_check(const char *title, const char *spec, uid_t uid)
{
    static char who[USER_ACL_NAME_MAX];
    struct passwd *pw = getpwuid(uid);

    snprintf(who, sizeof(who), "%s", pw ? pw->pw_name : "unknown");
    if (user_acl_match(title, spec, who) == 1)
        return NULL;
    return who;
}
