/*
 * postalias.c - postalias(1) and newaliases: build, query, dump or update
 * alias databases (aliases(5) source format).
 *
 * A thin main: the logic is shared with postmap in lib/dict_tool.c.
 * Invoked as "newaliases" it rebuilds every table in alias_database.
 * Usage: postalias [-Nfinoprsuvw] [-c config_dir] [-d key] [-q key]
 *        [type:]file...
 *
 * DIAGNOSTICS: as Postfix's postalias: fatal for what stops the command
 * (usage, parameters, a source or table that cannot be opened, read or
 * written); warnings for duplicate or empty keys and values (dict_tool.c).
 */
#include "dict_tool.h"

int
main(int argc, char **argv)
{
    return dict_tool_main(argc, argv, 1);
}
