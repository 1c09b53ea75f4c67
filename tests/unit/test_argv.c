/*
 * test_argv.c - unit tests for lib/argv.c.
 */
#include "argv.h"
#include "unit.h"

UNIT_TEST(test_add_truncate)
{
    ARGV   *a = argv_alloc();
    int     i;

    for (i = 0; i < 100; i++)
        argv_add(a, "x");
    argv_addn(a, "hello", 4);
    CHECK_INT(a->argc, 101);
    CHECK_STR(a->argv[100], "hell");
    CHECK(a->argv[101] == NULL);
    argv_truncate(a, 1);
    CHECK_INT(a->argc, 1);
    CHECK(a->argv[1] == NULL);
    argv_free(a);
    argv_free(NULL);
}

UNIT_TEST(test_split)
{
    ARGV   *a = argv_split("::a:b::c:", ":");

    CHECK_INT(a->argc, 3);
    CHECK_STR(a->argv[0], "a");
    CHECK_STR(a->argv[2], "c");
    argv_free(a);
    a = argv_split("", ":");
    CHECK_INT(a->argc, 0);
    CHECK(a->argv[0] == NULL);
    argv_free(a);
}

UNIT_TEST(test_split_list)
{
    ARGV   *a = argv_split_list("a, b  c");

    CHECK_INT(a->argc, 3);
    CHECK_STR(a->argv[0], "a");
    CHECK_STR(a->argv[1], "b");
    CHECK_STR(a->argv[2], "c");
    argv_free(a);

    a = argv_split_list("inline:{a=b, c=d}, static:x");
    CHECK_INT(a->argc, 2);
    CHECK_STR(a->argv[0], "inline:{a=b, c=d}");
    CHECK_STR(a->argv[1], "static:x");
    argv_free(a);

    a = argv_split_list(" ,\n\t reject_unauth_destination,\n    check_policy_service(a {b c}) ");
    CHECK_INT(a->argc, 2);
    CHECK_STR(a->argv[1], "check_policy_service(a {b c})");
    argv_free(a);

    /* Unbalanced braces do not run past the end. */
    a = argv_split_list("x {a, b");
    CHECK_INT(a->argc, 2);
    CHECK_STR(a->argv[1], "{a, b");
    argv_free(a);

    a = argv_split_list(" , ");
    CHECK_INT(a->argc, 0);
    argv_free(a);
}

UNIT_TESTS {
    {"add_truncate", test_add_truncate},
    {"split", test_split},
    {"split_list", test_split_list},
    UNIT_END
};
