# tests/postfix_side.sh - sourced by the scripts that run Debian's Postfix
# next to posthorn (posttls-finger.sh, postfix-roundtrip.sh); they are not
# part of make check.
#   need_postfix PROG...  exit 2 unless each of Debian's postfix programs is there
#   install_root NAME     make install into a fresh temporary root ($root),
#                         removed when the script exits
need_postfix() {
    for p in "$@"; do
        test -x "$p" || { echo "$0: needs Debian's postfix package ($p)" >&2; exit 2; }
    done
}

install_root() {
    root=$(mktemp -d "/tmp/posthorn-$1-root.XXXXXX")
    chmod 755 "$root"
    trap 'rm -rf "$root"' EXIT
    make -s install DESTDIR="$root" >/dev/null
}
