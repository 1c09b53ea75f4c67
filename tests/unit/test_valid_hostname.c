/*
 * test_valid_hostname.c - valid_hostname() (lib/util/valid_hostname.c):
 * the base rules, each flag, and the three flag sets smtpd uses (HELO,
 * ETRN, the PTR name of a client) with the verdicts those callers gave
 * before they shared this function.
 */
#include <string.h>

#include "valid_hostname.h"
#include "unit.h"

#define ROOT    VALID_HOSTNAME_ROOT_DOT
#define NUM     VALID_HOSTNAME_NUMERIC
#define HYPHEN  VALID_HOSTNAME_ANY_HYPHEN

/* smtpd's callers (see smtpd_check.c, smtpd_proto.c, smtpd_peer.c) */
#define HELO    (ROOT | HYPHEN)
#define ETRN    (NUM | HYPHEN)
#define PTR     (ROOT | NUM)

static char *
repeat(char *buf, int ch, size_t n)
{
    memset(buf, ch, n);
    buf[n] = 0;
    return buf;
}

/* One row: a name, the flags, the verdict valid_hostname() must give. */
typedef struct HOST_CASE {
    const char *name;
    int     flags;
    int     ok;
} HOST_CASE;

static void
check_hosts(const HOST_CASE *c)
{
    for (; c->name; c++) {
        unit_case = c->name;
        CHECK_INT(valid_hostname(c->name, c->flags), c->ok);
    }
    unit_case = 0;
}

UNIT_TEST(test_base)
{
    static const HOST_CASE cases[] = {
        {"host", 0, 1},
        {"mail.example.com", 0, 1},
        {"Mail-1.EXAMPLE_x.com", 0, 1},
        {"3com.example", 0, 1},    /* digits may start a label */
        {"a-b.c--d", 0, 1},
        {"", 0, 0},
        {".", 0, 0},
        {".example.com", 0, 0},
        {"example.com.", 0, 0},
        {"a..b", 0, 0},
        {"bad!name", 0, 0},
        {"a b", 0, 0},
        {"[1.2.3.4]", 0, 0},
        {"m\xc3\xbcnchen.example", 0, 0},
        {"-a.example", 0, 0},
        {"a-.example", 0, 0},
        {"a.-b.example", 0, 0},
        {"a.example-", 0, 0},
        {"-", 0, 0},
        {"123", 0, 0},
        {"1.2.3.4", 0, 0},
        {"1.2.3.4a", 0, 1},
        {"1-2.3", 0, 1},           /* '-' is not a digit */
        {0},
    };

    check_hosts(cases);
}

UNIT_TEST(test_lengths)
{
    char    l63[100], l62[100], name[512];

    repeat(l63, 'a', 63);
    repeat(l62, 'a', 62);
    CHECK_INT(valid_hostname(l63, 0), 1);
    CHECK_INT(valid_hostname(repeat(name, 'a', 64), 0), 0);
    snprintf(name, sizeof(name), "%s.%s.%s.%s", l63, l63, l63, l63);
    CHECK_INT(strlen(name), 255);
    CHECK_INT(valid_hostname(name, 0), 1);
    strcat(name, "d");
    CHECK_INT(valid_hostname(name, 0), 0);
    /* the limit counts a trailing dot */
    snprintf(name, sizeof(name), "%s.%s.%s.%s.", l63, l63, l63, l62);
    CHECK_INT(strlen(name), 255);
    CHECK_INT(valid_hostname(name, ROOT), 1);
    snprintf(name, sizeof(name), "%s.%s.%s.%s.", l63, l63, l63, l63);
    CHECK_INT(valid_hostname(name, ROOT), 0);
}

UNIT_TEST(test_flags)
{
    static const HOST_CASE cases[] = {
        {"example.com.", ROOT, 1},
        {"example.com..", ROOT, 0},
        {".", ROOT, 0},
        {"a-.", ROOT, 0},
        {"123", NUM, 1},
        {"1.2.3.4", NUM, 1},
        {"1.2.3.4.", NUM, 0},
        {"1.2.3.4.", ROOT, 0},
        {"1.2.3.4.", ROOT | NUM, 1},
        {"-a.example", HYPHEN, 1},
        {"a-.b-", HYPHEN, 1},
        {"-", HYPHEN, 1},
        {"a..b", ROOT | NUM | HYPHEN, 0},
        {0},
    };

    check_hosts(cases);
}

/* reject_invalid_helo_hostname, reject_rhsbl_helo: as before */
UNIT_TEST(test_helo)
{
    static const HOST_CASE cases[] = {
        {"client.example", HELO, 1},
        {"client.example.", HELO, 1},  /* then non-FQDN */
        {"localhost", HELO, 1},
        {"-client.example", HELO, 1},
        {"1.2.3.4", HELO, 0},
        {"1.2.3.4.", HELO, 0},
        {".client.example", HELO, 0},
        {"client..example", HELO, 0},
        {"bad!name", HELO, 0},
        {"[1.2.3.4]", HELO, 0},    /* the caller checks literals */
        {0},
    };

    check_hosts(cases);
}

/* the ETRN argument (after '@' or '#'): as before */
UNIT_TEST(test_etrn)
{
    static const HOST_CASE cases[] = {
        {"example.test", ETRN, 1},
        {"123", ETRN, 1},
        {"-x.example", ETRN, 1},
        {"example.test.", ETRN, 0},
        {".example.test", ETRN, 0},
        {"bad!domain", ETRN, 0},
        {0},
    };

    check_hosts(cases);
}

/*
 * The PTR name of a client: as before, except that the label rules now
 * apply too (before: any mix of letters, digits, '-', '_' and '.' that
 * did not start with '.' or '-').
 */
UNIT_TEST(test_ptr)
{
    char    label[100];

    CHECK_INT(valid_hostname("mail.example.com", PTR), 1);
    CHECK_INT(valid_hostname("mail.example.com.", PTR), 1);
    CHECK_INT(valid_hostname("192.0.2.1", PTR), 1);
    CHECK_INT(valid_hostname("-mail.example.com", PTR), 0);
    CHECK_INT(valid_hostname(".mail.example.com", PTR), 0);
    CHECK_INT(valid_hostname("mail example", PTR), 0);
    CHECK_INT(valid_hostname("a..b", PTR), 0);          /* new */
    CHECK_INT(valid_hostname("mail-.example", PTR), 0); /* new */
    CHECK_INT(valid_hostname(repeat(label, 'a', 64), PTR), 0);    /* new */
}

UNIT_TESTS {
    {"test_base", test_base},
    {"test_lengths", test_lengths},
    {"test_flags", test_flags},
    {"test_helo", test_helo},
    {"test_etrn", test_etrn},
    {"test_ptr", test_ptr},
    UNIT_END
};
