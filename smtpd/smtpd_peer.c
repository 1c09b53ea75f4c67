/*
 * smtpd_peer.c - who is the client: address, port and verified name.
 *
 * Interface: smtpd_peer_init() looks at the client socket; smtpd_peer_set()
 * sets the fields directly. Both fill name, reverse_name, addr, rfc_addr,
 * port and namaddr ("name[addr]").
 *
 * The name is the PTR name only when a forward lookup of that name gives
 * the client address back (forward-confirmed), otherwise "unknown", as
 * Postfix does. A client on a non-socket (smtpd -d on a pipe) is
 * "localhost[127.0.0.1]".
 *
 * SECURITY: the PTR result is controlled by whoever owns the client's
 * reverse zone. It is accepted only when it is a syntactically valid host
 * name (valid_hostname(): labels of 1..63 letters, digits, '-' and '_',
 * no '-' at either end of a label, at most 255 bytes) and forward-confirmed.
 *
 * DIAGNOSTICS: none fatal; a client name that does not resolve back to its
 * address is a warning ("hostname X does not resolve to address Y") and
 * the client is "unknown".
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "dns.h"
#include "mem.h"
#include "msg.h"
#include "smtpd.h"
#include "valid_hostname.h"

#define SMTPD_UNKNOWN "unknown"

/*
 * A PTR name: the one rule of valid_hostname(); a root dot and a
 * numeric name still pass, as before (Postfix makes a numeric PTR name
 * "unknown"; see valid_hostname.h).
 */
static int
smtpd_peer_valid_hostname(const char *name)
{
    return valid_hostname(name, VALID_HOSTNAME_ROOT_DOT | VALID_HOSTNAME_NUMERIC);
}

/* Forward-confirm: does name resolve back to addr? */
static int
smtpd_peer_confirm(const char *name, const char *addr)
{
    VSTRING *why = vstring_alloc(256);
    int     found = dns_host_confirm(name, addr, why) == DNS_OK;

    if (!found && LEN(why) > 0)
        msg_warn("hostname %s does not resolve to address %s: %s", name, addr, STR(why));
    else if (!found)
        msg_warn("hostname %s does not resolve to address %s", name, addr);
    vstring_free(why);
    return found;
}

/* Forget the client's names and addresses (smtpd_peer_set, state end). */
void
smtpd_peer_free(SMTPD_STATE *state)
{
    mem_free(state->name);
    mem_free(state->reverse_name);
    mem_free(state->addr);
    mem_free(state->rfc_addr);
    mem_free(state->port);
    mem_free(state->namaddr);
    state->name = state->reverse_name = state->addr = state->rfc_addr = 0;
    state->port = state->namaddr = 0;
}

void
smtpd_peer_set(SMTPD_STATE *state, const char *name, const char *addr, const char *port)
{
    smtpd_peer_free(state);
    state->name = mem_strdup(name);
    state->reverse_name = mem_strdup(name);
    state->addr = mem_strdup(addr);
    state->rfc_addr = strchr(addr, ':') ? mem_printf("IPv6:%s", addr) : mem_strdup(addr);
    state->port = mem_strdup(port);
    state->namaddr = mem_printf("%s[%s]", name, addr);
}

void
smtpd_peer_init(SMTPD_STATE *state)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char    addr[NI_MAXHOST], port[NI_MAXSERV], host[NI_MAXHOST];
    const char *name = SMTPD_UNKNOWN;

    state->peer_socket = getpeername(stream_fd(state->client), (struct sockaddr *) &ss, &len) == 0;
    if (!state->peer_socket || (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)) {
        smtpd_peer_set(state, "localhost", "127.0.0.1", "0");
        return;
    }
    if (dns_addr_text((struct sockaddr *) &ss, len, addr, sizeof(addr), port,
                      sizeof(port)) != 0) {
        smtpd_peer_set(state, SMTPD_UNKNOWN, "0.0.0.0", "0");
        return;
    }
    /* IPv4-mapped IPv6 is logged as IPv4, as Postfix does. */
    if (strncasecmp(addr, "::ffff:", 7) == 0 && strchr(addr + 7, '.') != NULL)
        memmove(addr, addr + 7, strlen(addr + 7) + 1);
    char   *pct = strchr(addr, '%');
    if (pct)
        *pct = 0;               /* drop a scope id */
    int     have_ptr = 0;
    if (var_smtpd_peername_lookup
        && dns_addr_name((struct sockaddr *) &ss, len, host, sizeof(host), NULL) == DNS_OK
        && smtpd_peer_valid_hostname(host)) {
        have_ptr = 1;
        if (smtpd_peer_confirm(host, addr))
            name = host;
    }
    smtpd_peer_set(state, name, addr, port);
    if (have_ptr) {
        mem_free(state->reverse_name);
        state->reverse_name = mem_strdup(host);
    }
}
