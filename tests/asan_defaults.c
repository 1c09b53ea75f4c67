/*
 * asan_defaults.c - linked into the programs of the ASan build only
 * (make asan): leak reports off by default, as ASAN_OPTIONS=detect_leaks=0
 * says for the test run. The set-gid programs (postdrop, postqueue,
 * postlog) do not get the test's environment when sendmail or a user
 * runs them, and LeakSanitizer cannot work in a set-gid process (it is
 * not dumpable), so the default has to be in the binary.
 */
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
    return "detect_leaks=0";
}
