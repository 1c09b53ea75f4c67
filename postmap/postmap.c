/*
 * postmap.c - postmap(1): build, query, dump or update lookup tables.
 *
 * A thin main: the logic is shared with postalias in lib/dict_tool.c.
 * Usage: postmap [-Nfinoprsuvw] [-c config_dir] [-d key] [-q key]
 *        [type:]file...
 *
 * DIAGNOSTICS: as Postfix's postmap: fatal for what stops the command
 * (usage, parameters, a source or table that cannot be opened, read or
 * written, an unsupported type); warnings for duplicate or empty keys and
 * values (dict_tool.c).
 */
#include "dict_tool.h"

int
main(int argc, char **argv)
{
    return dict_tool_main(argc, argv, 0);
}
