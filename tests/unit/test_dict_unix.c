/*
 * test_dict_unix.c - unit tests for the unix: table type in
 * lib/dict_simple.c: keys with '@' are never passwd entries.
 */
#include <string.h>

#include "maps.h"
#include "mem.h"
#include "unit.h"

UNIT_TEST(test_passwd_at_key)
{
    char   *err = 0;
    DICT   *d = dict_open("unix:passwd.byname", 0, &err);
    const char *value;

    CHECK(d != 0);
    if (d == 0)
        return;
    CHECK_INT(dict_get(d, "root", &value), MAP_FOUND);
    CHECK_INT(dict_get(d, "root@localhost", &value), MAP_NOTFOUND);
    CHECK_INT(dict_get(d, "root@", &value), MAP_NOTFOUND);
    CHECK_INT(dict_get(d, "@localhost", &value), MAP_NOTFOUND);
    dict_close(d);
}

UNIT_TEST(test_passwd_maps_local_part)
{
    MAPS   *m = maps_create("local_recipient_maps", "unix:passwd.byname", 0);
    const char *value;

    CHECK_INT(maps_find(m, "root@example.test", &value), MAP_NOTFOUND);
    CHECK_INT(maps_find(m, "root", &value), MAP_FOUND);
    CHECK(value != 0 && strncmp(value, "root:", 5) == 0);
    maps_free(m);
}

UNIT_TESTS {
    {"passwd_at_key", test_passwd_at_key},
    {"passwd_maps_local_part", test_passwd_maps_local_part},
    UNIT_END
};
