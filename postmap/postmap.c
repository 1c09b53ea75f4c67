/*
 * postmap.c - postmap(1): build, query, dump or update lookup tables.
 *
 * A thin main: the logic is shared with postalias in lib/dict_tool.c.
 * Usage: postmap [-Nfinoprsuvw] [-c config_dir] [-d key] [-q key]
 *        [type:]file...
 */
#include "dict_tool.h"

int
main(int argc, char **argv)
{
    return dict_tool_main(argc, argv, 0);
}
