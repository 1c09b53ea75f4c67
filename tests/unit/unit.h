/*
 * unit.h - a tiny unit test harness.
 *
 * Each tests/unit/test_<module>.c defines its tests with UNIT_TEST(name)
 * and lists them in a UNIT_TESTS table; unit.c's main() runs them, each in
 * a forked child (a crash fails that test only), and prints one line per
 * test and a closing "N passed, N failed".
 */
#ifndef POSTHORN_UNIT_H
#define POSTHORN_UNIT_H

#include <stdio.h>
#include <string.h>

typedef struct UNIT_CASE {
    const char *name;
    void  (*fn)(void);
} UNIT_CASE;

extern const UNIT_CASE unit_tests[];
extern int unit_failures;

/*
 * unit_case: a table-driven test points this at a description of the row
 * it checks (e.g. the row's input); a failed CHECK names it.
 */
extern const char *unit_case;

/*
 * unit_check_pairs(fn, ctx, rows, n): a table-driven test of a function
 * of two strings: for each of the n rows, CHECK that fn(ctx, a, b) gives
 * want (a failure names the row). UNIT_CHECK_PAIRS takes an array.
 */
typedef struct UNIT_PAIR {
    const char *a;
    const char *b;
    long    want;
} UNIT_PAIR;

void    unit_check_pairs(long (*fn)(void *, const char *, const char *), void *ctx,
                         const UNIT_PAIR *rows, size_t n);

#define UNIT_CHECK_PAIRS(fn, ctx, rows) \
        unit_check_pairs((fn), (ctx), (rows), sizeof(rows) / sizeof((rows)[0]))

/*
 * unit_each_record(text, fn, ctx): fn(ctx, type, data) for each line of
 * text written "T:data" (T a queue file record type, data a C string),
 * the form the tests' dumps print: "N:Subject: x", "L:a long line's
 * piece", "M:". unit_put_records(s, text) writes them with rec_puts.
 */
struct STREAM;
void    unit_each_record(const char *text, void (*fn)(void *, int, const char *), void *ctx);
void    unit_put_records(struct STREAM *s, const char *text);

/*
 * unit_config_child(cf, fn, ctx, err, errlen): in a child, load the main.cf
 * text cf, then fn(ctx) (a parameter reader that may end the process with
 * msg_fatal); the child's exit status, -1 if it crashed. What it wrote to
 * stderr is in err (NULL: thrown away).
 */
int     unit_config_child(const char *cf, void (*fn)(void *), void *ctx,
                          char *err, size_t errlen);

/*
 * unit_refuse(what): from now on this process's kernel refuses, like an
 * older kernel or another file system would (a seccomp filter; call it
 * in a child): UNIT_REFUSE_TMPFILE an open with O_TMPFILE (EOPNOTSUPP),
 * UNIT_REFUSE_EMPTY_PATH a linkat() with AT_EMPTY_PATH (ENOENT, as before
 * Linux 6.10 without CAP_DAC_READ_SEARCH), UNIT_REFUSE_CREAT an open with
 * O_CREAT (EACCES: the code under test must not make a name that way).
 * Exits 3 when the filter cannot be installed.
 */
#define UNIT_REFUSE_TMPFILE     1
#define UNIT_REFUSE_EMPTY_PATH  2
#define UNIT_REFUSE_CREAT       4
void    unit_refuse(int what);

#define UNIT_TEST(name) static void name(void)
#define UNIT_TESTS const UNIT_CASE unit_tests[] =
#define UNIT_END { 0, 0 }

/* "  file:line: " and, in a table-driven test, "[row] " */
#define UNIT_WHERE() fprintf(stderr, "  %s:%d: %s%s%s", __FILE__, __LINE__, \
        unit_case ? "[" : "", unit_case ? unit_case : "", unit_case ? "] " : "")

#define CHECK(cond) do { if (!(cond)) { \
        UNIT_WHERE(); fprintf(stderr, "CHECK(%s) failed\n", #cond); \
        unit_failures++; } } while (0)
#define CHECK_STR(a, b) do { const char *_a = (a), *_b = (b); \
        if (!_a || !_b || strcmp(_a, _b) != 0) { \
        UNIT_WHERE(); fprintf(stderr, "\"%s\" != \"%s\"\n", \
                _a ? _a : "(null)", _b ? _b : "(null)"); unit_failures++; } } while (0)
#define CHECK_INT(a, b) do { long _a = (long)(a), _b = (long)(b); \
        if (_a != _b) { UNIT_WHERE(); fprintf(stderr, "%s = %ld, expected %ld\n", \
        #a, _a, _b); unit_failures++; } } while (0)

#endif
