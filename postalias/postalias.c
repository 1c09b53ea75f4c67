/*
 * postalias.c - postalias(1) and newaliases: build, query, dump or update
 * alias databases (aliases(5) source format).
 *
 * A thin main: the logic is shared with postmap in lib/dict_tool.c.
 * Invoked as "newaliases" it rebuilds every table in alias_database.
 * Usage: postalias [-Nfinoprsuvw] [-c config_dir] [-d key] [-q key]
 *        [type:]file...
 */
#include "dict_tool.h"

int
main(int argc, char **argv)
{
    return dict_tool_main(argc, argv, 1);
}
