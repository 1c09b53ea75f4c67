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
 * unit_config_child(cf, fn, ctx, err, errlen): in a child, load the main.cf
 * text cf, then fn(ctx) (a parameter reader that may end the process with
 * msg_fatal); the child's exit status, -1 if it crashed. What it wrote to
 * stderr is in err (NULL: thrown away).
 */
int     unit_config_child(const char *cf, void (*fn)(void *), void *ctx,
                          char *err, size_t errlen);

#define UNIT_TEST(name) static void name(void)
#define UNIT_TESTS const UNIT_CASE unit_tests[] =
#define UNIT_END { 0, 0 }

#define CHECK(cond) do { if (!(cond)) { \
        fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
        unit_failures++; } } while (0)
#define CHECK_STR(a, b) do { const char *_a = (a), *_b = (b); \
        if (!_a || !_b || strcmp(_a, _b) != 0) { \
        fprintf(stderr, "  %s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, \
                _a ? _a : "(null)", _b ? _b : "(null)"); unit_failures++; } } while (0)
#define CHECK_INT(a, b) do { long _a = (long)(a), _b = (long)(b); \
        if (_a != _b) { fprintf(stderr, "  %s:%d: %s = %ld, expected %ld\n", \
        __FILE__, __LINE__, #a, _a, _b); unit_failures++; } } while (0)

#endif
