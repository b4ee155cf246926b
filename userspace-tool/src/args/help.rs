// SPDX-License-Identifier: GPL-2.0

//! The long help texts of dnatctl (`long_about`, `after_help`): the limits
//! they give come from `limit.rs`, so the help says what is checked.

use dnat_core::pap::PORT_CLASS_BOUNDARY;

use crate::limit::{LEASE, PAP_RATE, PORT, PORT_COUNT, QUOTA, RAW_U8, SPI, SPI_COUNT, TIMEOUT};

pub(super) const LONG_ABOUT: &str = "\
Configure and inspect the dnat kernel modules (dnat_router on the router, \
dnat_host on a host) over generic netlink, in the caller's network namespace. \
`dnatctl pap` is a PAP client that obtains ports and SPIs from the router, and \
tells it about SAs and blacklist entries, without the dnat_host module. \
`dnatctl host follow` is a daemon that has the dnat_host module validate the \
host's inbound IPsec SAs with the router as XFRM adds and deletes them. \
`dnatctl monitor` prints the modules' events as they happen.

Options are options wherever they stand, as for ip and wg: -j (--json) and -h \
(--help) also among the words of set, quota, blacklist and pap \
(\"dnatctl router set pap-rate 5 -j\"); -h or --help anywhere prints the \
command's help and is never a value. After --, the rest of the line is words \
(a value that starts with -). Every number is checked against its limit (the \
help of each command gives them) before anything is sent.

Errors are printed on standard error as \"dnatctl: CONTEXT: REASON\". For a \
usage error CONTEXT is the command's words (and FILE:LINE for a bad line of \
the file of setconf), and a line \"Try 'dnatctl WORDS --help' for more \
information.\" follows; for the others CONTEXT is what dnatctl was doing:

  dnatctl: router set: pap-rate: \"1001\" is out of range (0 to 1000)
  Try 'dnatctl router set --help' for more information.
  dnatctl: setting the dnat_router configuration: Invalid argument (errno 22): ...

Exit codes:
  0  success
  1  the kernel refused the request (the errno and the kernel's message are printed),
     the router refused a PAP request or release, or a raw socket was not permitted;
     the CA refused a certificate request (its reason is printed)
  2  usage error (bad arguments, a number outside its limit, or a bad line in the
     file of setconf), found before anything is sent
  3  the generic netlink family is not registered (module not loaded)
  4  other I/O error (socket failure, malformed reply, no answer from the router)";

/// The help of `router set`, with the limits of `limit.rs`.
pub(super) fn router_set_help() -> String {
    format!(
        "\
Settings (any non-empty subset, in any order):
  lan IFNAME        interface towards the hosts
  wan IFNAME        interface towards the Internet
  public ADDR       shared public IPv4 address
  ports MIN-MAX     port pool, inclusive; ports {PORT}
  spis MIN-MAX      SPI pool, inclusive; SPIs {SPI}, decimal or 0x hex
  unowned local|drop
                    inbound packets for ports and SPIs nobody owns: to the
                    router's own stack (local) or dropped (drop); a number
                    ({RAW_U8}) is sent as is
  quota-ports N     most ports one host may hold at once ({QUOTA})
  quota-spis N      most SPIs one host may hold at once ({QUOTA})
  sa-policy strict|permissive
                    inbound ESP/AH reaches the SPI's owner only from a peer it
                    validated (strict), or from any peer (permissive); the
                    blacklist applies either way; a number ({RAW_U8}) is sent
                    as is
  hook-counters on|off
                    count packets at every IPv4 hook point (router counters);
                    off by default: each extra hook costs a call per packet
  pap-rate N        port and SPI requests a second the PAP server takes from
                    one host ({PAP_RATE}; 0, the default: no limit); requests
                    over it are refused with rate_limited
  pap-auth required|optional
                    serve only authenticated PAP and key requests (required,
                    the default), or also hosts that never used a key
                    (optional); a number ({RAW_U8}) is sent as is

{NUMBERS}

Example: dnatctl router set lan veth-lan wan veth-wan public 203.0.113.30 ports 20000-29999 spis 0x1000-0x1fff"
    )
}

/// What the help of `set` says of numbers outside their ranges.
const NUMBERS: &str = "\
A number outside its range is a usage error (exit 2) and nothing is sent; the
kernel judges the rest (a range's order, interfaces, addresses, the numbers
given for names).";

pub(super) const ROUTER_SA_HELP: &str = "\
HOST is the host's LAN address, PEER the SA peer's external address, SPI the
SA's inbound SPI (decimal or 0x hex). Does for the host what its PAP 34/0
(validate) and 35/0 (invalidate) do; prints nothing. The kernel refuses an
unknown host or (invalidate) SA (ENOENT), a peer that is not a unicast
external address (EINVAL), an SPI the host does not hold (EPERM), or a full
table (ENOSPC). \"dnatctl router sas\" lists the SAs.

Example: dnatctl router sa validate 10.0.0.1 203.0.113.3 0x1000";

pub(super) const ROUTER_BLACKLIST_HELP: &str = "\
Without a subcommand (or with show), prints the blacklist entries:
  10.0.0.1 peer 203.0.113.66 spi any

add and del take the host's LAN address, then peer ADDR and/or spi SPI (at
least one; the one left out matches any). Inbound ESP/AH for the host that
matches an entry is dropped, even from a validated SA. The kernel's errors
are those of \"dnatctl router sa\".

Example: dnatctl router blacklist add 10.0.0.1 peer 203.0.113.66";

/// The help of `router quota`.
pub(super) fn router_quota_help() -> String {
    format!(
        "\
Words (any order, each once):
  ports N           most ports the host may hold at once ({QUOTA})
  spis N            most SPIs the host may hold at once ({QUOTA})
  default           alone: the host goes back on the default quota (the one
                    \"dnatctl router set quota-ports N quota-spis N\" sets)

ports and/or spis give the host its own quota; the one left out keeps the
value in effect for the host (its own, or the default). Sends SET_QUOTA;
prints nothing. Lowering a quota takes nothing back: the host's requests are
refused (PAP reason over_quota) until it holds less. \"dnatctl router hosts\"
shows the quota in effect as \"quota PORTS/SPIS\", marked \"(own)\" for a
host's own. The kernel refuses an address that is not unicast (EINVAL) and a
full host table (ENOSPC: a host the router does not know yet takes a slot to
keep its quota).

Example: dnatctl router quota 10.0.0.1 ports 100 spis 16"
    )
}

/// The help of `router delivery`.
pub(super) const ROUTER_DELIVERY_HELP: &str = "\
Words:
  ipip              IP-in-IP from the router's LAN address (the default); the
                    host's untunnelled packets with the public address are
                    dropped
  direct [lladdr MAC]
                    the unchanged packet to the host's Ethernet address MAC
                    (aa:bb:cc:dd:ee:ff) on the LAN device, and the host's
                    untunnelled packets accepted from that address there;
                    without lladdr, the source of the host's next PAP message
                    that the router accepts binds it (IP-in-IP until then)

Sends SET_DELIVERY; prints nothing. \"dnatctl router hosts\" ends a direct
host's line with \"delivery direct lladdr MAC\", or \"delivery direct
(learning)\" until it is bound (JSON \"delivery\", \"lladdr\"). The kernel
refuses an address that is not unicast (EINVAL), a MAC that is multicast,
broadcast or all zeroes (EINVAL), a MAC another host is bound to
(EADDRINUSE), and a full host table (ENOSPC: a host the router does not know
yet takes a slot, which it keeps while direct).

Example: dnatctl router delivery 10.0.0.1 direct lladdr 02:00:00:00:00:01";

pub(super) const ROUTER_SHOWCONF_HELP: &str = "\
Prints [Router], with every setting of \"dnatctl router set\", then a [Host ADDR]
section for each host with its own quota (\"dnatctl router quota\"), revoked or
in direct delivery (\"dnatctl router delivery\"; delivery = direct, lladdr = MAC):

  [Router]
  lan = lan0
  ...
  pap-auth = required

  [Host 10.0.0.1]
  quota-ports = 100
  quota-spis = 16

\"dnatctl router setconf\" reads it back. Blocks, leases, counters, SAs and
blacklist entries are the router's state, not configuration, and are left out
(an SA or blacklist entry lasts only while its host holds blocks; hosts send
them again). The format: Documentation/networking/dnat-conf.rst.

Example: dnatctl router showconf >/etc/dnat/router.conf";

pub(super) const ROUTER_SETCONF_HELP: &str = "\
Reads FILE (\"-\": the standard input) in the format of showconf and checks it
whole first; a bad line is reported as \"dnatctl: router setconf: FILE:LINE:
reason\" (exit 2) and nothing changes. The router then has exactly the file's
configuration: a setting the file leaves out takes the value of a module just
loaded (the interfaces, the public address and the pools cannot be unset:
leaving out one the router has is an error), and a host without a section goes
back on the default quota, is readmitted and goes back to ipip. Sends SET_CONFIG
with every setting, then SET_QUOTA, READMIT_HOST, REVOKE_HOST and SET_DELIVERY
for the hosts that change; prints nothing. If the kernel
refuses a request midway, the configuration read before is put back (best
effort: blocks a revocation or a pool change ended stay ended) and the error
is printed (exit 1). Blocks, SAs and blacklist entries are left alone.

Example: dnatctl router setconf /etc/dnat/router.conf";

pub(super) const HOST_SHOWCONF_HELP: &str = "\
Prints [Host], with every setting of \"dnatctl host set\":

  [Host]
  router = 10.0.0.7
  public = 203.0.113.30
  dev = eth0
  mode = translate
  ...

\"dnatctl host setconf\" reads it back. Blocks, translations, SA validations,
blacklist entries, the epoch and the counters are the host's state, not
configuration, and are left out. The format:
Documentation/networking/dnat-conf.rst.

Example: dnatctl host showconf >/etc/dnat/host.conf";

pub(super) const HOST_SETCONF_HELP: &str = "\
Reads FILE (\"-\": the standard input) in the format of showconf and checks it
whole first; a bad line is reported as \"dnatctl: host setconf: FILE:LINE:
reason\" (exit 2) and nothing changes. The host then has exactly the file's
configuration: a setting the file leaves out takes the value of a module just
loaded (router, public and dev cannot be unset: leaving out one the host has
is an error). Sends one
SET_CONFIG with every setting, which the kernel applies whole or not at all;
prints nothing.

Example: dnatctl host setconf /etc/dnat/host.conf";

/// The help of `host set`.
pub(super) fn host_set_help() -> String {
    format!(
        "\
Settings (any non-empty subset, in any order):
  router ADDR       the router's LAN address
  public ADDR       shared public IPv4 address
  dev IFNAME        interface towards the router
  mode translate|native
                    translate ephemeral ports to granted ports (translate), or
                    let the stack use granted ports itself (native); a number
                    ({RAW_U8}) is sent as is
  tcp-timeout SECS  idle timeout of TCP translations ({TIMEOUT})
  udp-timeout SECS  idle timeout of UDP translations ({TIMEOUT})
  port-block N      ports asked for per PAP request ({PORT_COUNT})
  hook-counters on|off
                    count packets at every IPv4 hook point (host counters);
                    off by default: each extra hook costs a call per packet
  delivery ipip|direct
                    send to the Internet through an IP-in-IP tunnel to the
                    router (ipip, the default), or as they are to the
                    router's link-layer address (direct: the router must
                    deliver to this host directly too: dnatctl router
                    delivery); a number ({RAW_U8}) is sent as is

{NUMBERS}

Example: dnatctl host set router 10.0.0.7 public 203.0.113.30 dev eth0"
    )
}

/// The help of `host request`.
pub(super) fn host_request_help() -> String {
    format!(
        "\
Asks the router now, through the dnat_host module, for COUNT ports
({PORT_COUNT}) or SPIs ({SPI_COUNT}), what one PAP request asks for; prints
nothing. The grant shows in \"dnatctl host blocks\". The kernel refuses a
host that is not configured yet (ENOTCONN), or a request while another is
outstanding (EBUSY).

Example: dnatctl host request ports 16"
    )
}

pub(super) const HOST_RELEASE_HELP: &str = "\
Gives a held block back to the router, through the dnat_host module; prints
nothing. Translations using its ports end. The kernel refuses a block it does
not hold (ENOENT). LOWEST and COUNT are as \"dnatctl host blocks\" shows them
(SPIs decimal or 0x hex).

Example: dnatctl host release ports 20000 64";

pub(super) const PAP_EXIT: &str = "\
Sends one PAP message with the extension trailer over a raw ICMP socket (needs
CAP_NET_RAW) and waits for the router's answer: 1 s, then retransmits the same
message after 1, 2 and 4 s without an answer, waiting 8 s after the last.

Exit codes:
  0  granted / released / acknowledged (validated, blacklisted, ...)
  1  refused by the router (the reason is printed), or no permission for a raw socket
  2  usage error, or no router address
  4  no answer after 4 transmissions (15 s), or a socket error";

/// The help of `pap request ports`.
pub(super) fn pap_request_ports_help() -> String {
    // dnat-core's classes: low below the boundary, high from it.
    let b = PORT_CLASS_BOUNDARY;
    format!(
        "\
Optional words (any order, each once):
  low | high        ports {}-{} or {}-{} (default: high)
  router ADDR       the router's LAN address (default: the router address of the
                    dnat_host module, when it is loaded and has one)
  lease SECONDS     the lease wanted ({LEASE}; default 0: the router's default)
  --native          set net.ipv4.ip_local_port_range to the granted block

Example: dnatctl pap request ports 16 router 10.0.0.7 lease 3600",
        PORT.min,
        b - 1,
        b,
        PORT.max
    )
}

/// The help of `pap request spis`.
pub(super) fn pap_request_spis_help() -> String {
    format!(
        "\
Optional words (any order, each once):
  router ADDR       the router's LAN address (default: dnat_host's)
  lease SECONDS     the lease wanted ({LEASE}; default 0: the router's default)

Example: dnatctl pap request spis 256 router 10.0.0.7"
    )
}

pub(super) const PAP_RELEASE_PORTS_HELP: &str = "\
Optional words:
  router ADDR       the router's LAN address (default: dnat_host's)

Example: dnatctl pap release ports 20000 16 router 10.0.0.7";

pub(super) const PAP_RELEASE_SPIS_HELP: &str = "\
Optional words:
  router ADDR       the router's LAN address (default: dnat_host's)

Example: dnatctl pap release spis 0x1000 256 router 10.0.0.7";

/// The help of `pap validate` and `pap invalidate`.
pub(super) fn pap_sa_help() -> String {
    format!(
        "\
PEER is the SA peer's external address (unicast), SPI the SA's inbound SPI
({SPI}, decimal or 0x hex), which the router checks is this host's.
validate sends 34/0, invalidate 35/0; the router acknowledges with 36/1
(printed as \"validated 203.0.113.3 spi 0x1000\") or refuses with 36/2 and a
reason (\"refused: not_owned\", exit 1).

Optional words:
  router ADDR       the router's LAN address (default: dnat_host's)

Example: dnatctl pap validate 203.0.113.3 0x1000 router 10.0.0.7"
    )
}

/// The help of `pap blacklist`.
pub(super) fn pap_blacklist_help() -> String {
    format!(
        "\
Words (any order, each once; peer and/or spi, at least one):
  peer ADDR         the external source address (unicast); left out: any
  spi SPI           the SPI ({SPI}, this host's); left out: any
  router ADDR       the router's LAN address (default: dnat_host's)

add sends 34/1, del 35/1; the router acknowledges with 36/1 or refuses with
36/2 and a reason (exit 1).

Example: dnatctl pap blacklist add peer 203.0.113.66 router 10.0.0.7"
    )
}
