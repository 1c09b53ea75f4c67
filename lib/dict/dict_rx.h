/*
 * dict_rx.h - the rule-file engine shared by the pattern table types
 * regexp: (dict_regexp.c), pcre: (dict_pcre.c) and cidr: (dict_cidr.c).
 * Private to lib/dict_*.c.
 *
 * A rule file holds, one per logical line (a line that starts with white
 * space continues the previous one; '#' lines and blank lines are skipped):
 *     pattern result          the first matching pattern gives the result
 *     !pattern result         ... when the pattern does not match
 *     if pattern / if !pattern ... endif    (nested) a block that is only
 *                             searched when the key matches (or not)
 * How a pattern is written (/re/flags, network/prefix) and matched is the
 * type's business, through DICT_RX_TYPE. Results may refer to capture
 * groups as $1..$9, ${n} or $(n) ($$ is a dollar sign); with
 * MAP_NO_REGSUB such rules are skipped.
 *
 * Bad rules are logged ("<file>, line N: ...: skipping this rule") and
 * skipped, as Postfix does; only an unreadable file fails the open.
 *
 * SECURITY: the file is the administrator's; keys come from the network
 * and are only matched. Results are bounded by the rule text plus the key
 * length per substitution.
 *
 * DIAGNOSTICS: warnings only, with file name and line, for rule-file lines
 * that are skipped (dict_regexp.c).
 */
#ifndef POSTHORN_DICT_RX_H
#define POSTHORN_DICT_RX_H

#include "dict_impl.h"

#define DICT_RX_GROUPS 10               /* $0..$9 */
#define DICT_RX_BADKEY  (-2)

/* Capture offsets of the last match; -1 for an unset group. */
typedef struct DICT_RX_MATCH {
    long    start[DICT_RX_GROUPS];
    long    end[DICT_RX_GROUPS];
} DICT_RX_MATCH;

typedef struct DICT_RX_TYPE {
    /* Parse one pattern at *cp (after a '!'), advance *cp past it (and its
     * flags). NULL with a reason in why (no "skipping" suffix) on error. */
    void   *(*parse)(const char **cp, VSTRING *why);
    /* 1 match (groups filled when m is not NULL), 0 no match, -1 error,
     * DICT_RX_BADKEY: the key can never match (cidr: not an address). */
    int     (*match)(void *pat, const char *key, DICT_RX_MATCH *m);
    void    (*free)(void *pat);
    /* Highest usable $n for a pattern; -1: the type has no groups. */
    int     (*groups)(void *pat);
} DICT_RX_TYPE;

/* The open/get/close methods for a type built on the engine. */
int     dict_rx_open(DICT *d, const DICT_RX_TYPE *type);
int     dict_rx_get(DICT *d, const char *key, const char **value);
int     dict_rx_close(DICT *d, int commit);

/* "/re/flags" (any delimiter): the expression into re (a backslash before
 * the delimiter is dropped, others kept), the flag letters into flags.
 * Returns 0, or -1 with a reason in why. */
int     dict_rx_delimited(const char **cp, VSTRING *re, VSTRING *flags, VSTRING *why);

extern const DICT_OPS dict_regexp_ops;
extern const DICT_OPS dict_pcre_ops;
extern const DICT_OPS dict_cidr_ops;

#endif
