/*
 * dict_tool.h - the postmap / postalias / newaliases command logic, shared
 * by postmap/postmap.c and postalias/postalias.c (both thin mains).
 *
 * dict_tool_main() parses Postfix's options for these commands, reads
 * main.cf and builds, queries, dumps or deletes from tables. The output
 * formats and exit codes are Postfix's: "postmap -q key map" prints the
 * value (exit 0, or 1 when not found); "-q -" prints "key<TAB>value" per
 * found key (postalias: "key:<TAB>value"); "-s" prints all entries the
 * same way; "-d key" exits 0 when any table held the key.
 *
 * Invoked as "newaliases" (argv[0] basename), postalias rebuilds every
 * table listed in alias_database.
 *
 * DIAGNOSTICS: as Postfix's postmap/postalias: fatal for what stops the
 * command (a usage error, a bad parameter value, a source or table that
 * cannot be opened, read or written, an unsupported type, a failed id
 * switch); warnings for duplicate or empty keys and values.
 */
#ifndef POSTHORN_DICT_TOOL_H
#define POSTHORN_DICT_TOOL_H

int     dict_tool_main(int argc, char **argv, int is_alias);

#endif
