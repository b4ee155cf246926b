#compdef dnatctl

autoload -U is-at-least

_dnatctl() {
    typeset -A opt_args
    typeset -a _arguments_options
    local ret=1

    if is-at-least 5.2; then
        _arguments_options=(-s -S -C)
    else
        _arguments_options=(-s -C)
    fi

    local context curcontext="$curcontext" state line
    _arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_dnatctl_commands" \
"*::: :->dnatctl" \
&& ret=0
    case $state in
    (dnatctl)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:dnatctl-command-$line[1]:"
        case $line[1] in
            (router)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
":: :_dnatctl__subcmd__router_commands" \
"*::: :->router" \
&& ret=0

    case $state in
    (router)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:dnatctl-router-command-$line[1]:"
        case $line[1] in
            (show)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(set)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
'*::settings -- Settings\: lan IFNAME, wan IFNAME, public ADDR, ports MIN-MAX, spis MIN-MAX, unowned local|drop, quota-ports N, quota-spis N, sa-policy strict|permissive, hook-counters on|off, pap-rate N, pap-auth required|optional:_default' \
&& ret=0
;;
(showconf)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(setconf)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
':file -- The file; - for the standard input:_files' \
&& ret=0
;;
(blocks)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(stats)
_arguments "${_arguments_options[@]}" : \
'-o+[With --prometheus\: write FILE atomically (a temporary file in its directory, renamed over it) instead of printing]:FILE:_files' \
'--output=[With --prometheus\: write FILE atomically (a temporary file in its directory, renamed over it) instead of printing]:FILE:_files' \
'-a[Print every counter, those that are 0 too (--json and --prometheus always have them all)]' \
'--all[Print every counter, those that are 0 too (--json and --prometheus always have them all)]' \
'--prometheus[Print the counters in the Prometheus text format, for node_exporter'\''s textfile collector (router stats\: with the hosts of router hosts, labelled by address)]' \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(hosts)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(revoke)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
':addr -- The host'\''s LAN address:_default' \
&& ret=0
;;
(readmit)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
':addr -- The host'\''s LAN address:_default' \
&& ret=0
;;
(quota)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
':addr -- The host'\''s LAN address:_default' \
'*::words -- ports N, spis N, or default:_default' \
&& ret=0
;;
(delivery)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
':addr -- The host'\''s LAN address:_default' \
'*::words -- ipip, or direct \[lladdr MAC\]:_default' \
&& ret=0
;;
(reset)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(sas)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(sa)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
":: :_dnatctl__subcmd__router__subcmd__sa_commands" \
"*::: :->sa" \
&& ret=0

    case $state in
    (sa)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:dnatctl-router-sa-command-$line[1]:"
        case $line[1] in
            (validate)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
':host -- The host'\''s LAN address:_default' \
':peer -- The SA peer'\''s external address:_default' \
':spi -- The SA'\''s inbound SPI (256 to 4294967295, decimal or 0x hex):_default' \
&& ret=0
;;
(invalidate)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
':host -- The host'\''s LAN address:_default' \
':peer -- The SA peer'\''s external address:_default' \
':spi -- The SA'\''s inbound SPI (256 to 4294967295, decimal or 0x hex):_default' \
&& ret=0
;;
        esac
    ;;
esac
;;
(blacklist)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
":: :_dnatctl__subcmd__router__subcmd__blacklist_commands" \
"*::: :->blacklist" \
&& ret=0

    case $state in
    (blacklist)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:dnatctl-router-blacklist-command-$line[1]:"
        case $line[1] in
            (show)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(add)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
':host -- The host'\''s LAN address:_default' \
'*::words -- peer ADDR, spi SPI:_default' \
&& ret=0
;;
(del)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
':host -- The host'\''s LAN address:_default' \
'*::words -- peer ADDR, spi SPI:_default' \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(host)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
":: :_dnatctl__subcmd__host_commands" \
"*::: :->host" \
&& ret=0

    case $state in
    (host)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:dnatctl-host-command-$line[1]:"
        case $line[1] in
            (show)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(set)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
'*::settings -- Settings\: router ADDR, public ADDR, dev IFNAME, mode translate|native, tcp-timeout SECS, udp-timeout SECS, port-block N, hook-counters on|off, delivery ipip|direct:_default' \
&& ret=0
;;
(showconf)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(setconf)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
':file -- The file; - for the standard input:_files' \
&& ret=0
;;
(stats)
_arguments "${_arguments_options[@]}" : \
'-o+[With --prometheus\: write FILE atomically (a temporary file in its directory, renamed over it) instead of printing]:FILE:_files' \
'--output=[With --prometheus\: write FILE atomically (a temporary file in its directory, renamed over it) instead of printing]:FILE:_files' \
'-a[Print every counter, those that are 0 too (--json and --prometheus always have them all)]' \
'--all[Print every counter, those that are 0 too (--json and --prometheus always have them all)]' \
'--prometheus[Print the counters in the Prometheus text format, for node_exporter'\''s textfile collector (router stats\: with the hosts of router hosts, labelled by address)]' \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(blocks)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(sptt)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(translations)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(request)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
":: :_dnatctl__subcmd__host__subcmd__request_commands" \
"*::: :->request" \
&& ret=0

    case $state in
    (request)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:dnatctl-host-request-command-$line[1]:"
        case $line[1] in
            (ports)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
':count -- Number of ports (1 to 255):_default' \
&& ret=0
;;
(spis)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
':count -- Number of SPIs (1 to 65535):_default' \
&& ret=0
;;
        esac
    ;;
esac
;;
(release)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
":: :_dnatctl__subcmd__host__subcmd__release_commands" \
"*::: :->release" \
&& ret=0

    case $state in
    (release)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:dnatctl-host-release-command-$line[1]:"
        case $line[1] in
            (ports)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
':lowest -- First port of the block (1 to 65535):_default' \
':count -- Number of ports (1 to 255):_default' \
&& ret=0
;;
(spis)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
':lowest -- First SPI of the block (256 to 4294967295, decimal or 0x hex):_default' \
':count -- Number of SPIs (1 to 65535):_default' \
&& ret=0
;;
        esac
    ;;
esac
;;
(sa)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
":: :_dnatctl__subcmd__host__subcmd__sa_commands" \
"*::: :->sa" \
&& ret=0

    case $state in
    (sa)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:dnatctl-host-sa-command-$line[1]:"
        case $line[1] in
            (validate)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
':peer -- The SA peer'\''s external address:_default' \
':spi -- The SA'\''s inbound SPI (256 to 4294967295, decimal or 0x hex):_default' \
&& ret=0
;;
(invalidate)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
':peer -- The SA peer'\''s external address:_default' \
':spi -- The SA'\''s inbound SPI (256 to 4294967295, decimal or 0x hex):_default' \
&& ret=0
;;
        esac
    ;;
esac
;;
(blacklist)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
":: :_dnatctl__subcmd__host__subcmd__blacklist_commands" \
"*::: :->blacklist" \
&& ret=0

    case $state in
    (blacklist)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:dnatctl-host-blacklist-command-$line[1]:"
        case $line[1] in
            (add)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
'*::words -- peer ADDR, spi SPI:_default' \
&& ret=0
;;
(del)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
'*::words -- peer ADDR, spi SPI:_default' \
&& ret=0
;;
        esac
    ;;
esac
;;
(sas)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(spi)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
":: :_dnatctl__subcmd__host__subcmd__spi_commands" \
"*::: :->spi" \
&& ret=0

    case $state in
    (spi)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:dnatctl-host-spi-command-$line[1]:"
        case $line[1] in
            (alloc)
_arguments "${_arguments_options[@]}" : \
'--proto=[The SA'\''s protocol]:PROTO:(esp ah)' \
'--mode=[The SA'\''s mode]:MODE:(transport tunnel)' \
'--reqid=[The SA'\''s reqid]:N:_default' \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
':peer -- The SA peer'\''s external address (the SA'\''s source):_default' \
&& ret=0
;;
        esac
    ;;
esac
;;
(follow)
_arguments "${_arguments_options[@]}" : \
'--interval=[Seconds between resynchronisations (1 to 86400)]:SECONDS:_default' \
'--dry-run=[Testing aid\: no host module; PUBLIC,MIN-MAX\[,MIN-MAX...\] stand for its public address and SPI blocks, and what would be sent is logged]:PUBLIC,MIN-MAX:_default' \
'--once[Resynchronise once and exit]' \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
        esac
    ;;
esac
;;
(pap)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
":: :_dnatctl__subcmd__pap_commands" \
"*::: :->pap" \
&& ret=0

    case $state in
    (pap)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:dnatctl-pap-command-$line[1]:"
        case $line[1] in
            (request)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
":: :_dnatctl__subcmd__pap__subcmd__request_commands" \
"*::: :->request" \
&& ret=0

    case $state in
    (request)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:dnatctl-pap-request-command-$line[1]:"
        case $line[1] in
            (ports)
_arguments "${_arguments_options[@]}" : \
'--native[Set net.ipv4.ip_local_port_range to the granted block]' \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
':count -- Number of ports (the router may grant fewer) (1 to 255):_default' \
'*::options -- low | high, router ADDR, lease SECONDS:_default' \
&& ret=0
;;
(spis)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
':count -- Number of SPIs (the router may grant fewer) (1 to 65535):_default' \
'*::options -- router ADDR, lease SECONDS:_default' \
&& ret=0
;;
        esac
    ;;
esac
;;
(release)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
":: :_dnatctl__subcmd__pap__subcmd__release_commands" \
"*::: :->release" \
&& ret=0

    case $state in
    (release)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:dnatctl-pap-release-command-$line[1]:"
        case $line[1] in
            (ports)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
':lowest -- First port of the block (1 to 65535):_default' \
':count -- Number of ports (1 to 255):_default' \
'*::options -- router ADDR:_default' \
&& ret=0
;;
(spis)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
':lowest -- First SPI of the block (256 to 4294967295, decimal or 0x hex):_default' \
':count -- Number of SPIs (1 to 65535):_default' \
'*::options -- router ADDR:_default' \
&& ret=0
;;
        esac
    ;;
esac
;;
(validate)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
':peer -- The SA peer'\''s external address:_default' \
':spi -- The SA'\''s inbound SPI (256 to 4294967295, decimal or 0x hex):_default' \
'*::options -- router ADDR:_default' \
&& ret=0
;;
(invalidate)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
':peer -- The SA peer'\''s external address:_default' \
':spi -- The SA'\''s inbound SPI (256 to 4294967295, decimal or 0x hex):_default' \
'*::options -- router ADDR:_default' \
&& ret=0
;;
(blacklist)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
":: :_dnatctl__subcmd__pap__subcmd__blacklist_commands" \
"*::: :->blacklist" \
&& ret=0

    case $state in
    (blacklist)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:dnatctl-pap-blacklist-command-$line[1]:"
        case $line[1] in
            (add)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
'*::options -- peer ADDR, spi SPI, router ADDR:_default' \
&& ret=0
;;
(del)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
'*::options -- peer ADDR, spi SPI, router ADDR:_default' \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(ca)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
":: :_dnatctl__subcmd__ca_commands" \
"*::: :->ca" \
&& ret=0

    case $state in
    (ca)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:dnatctl-ca-command-$line[1]:"
        case $line[1] in
            (init)
_arguments "${_arguments_options[@]}" : \
'--dir=[The CA'\''s directory (made 0700; refused if open to group or others)]:DIR:_files' \
'--public=[The shared public address (default\: the dnat_router module'\''s)]:ADDR:_default' \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(show)
_arguments "${_arguments_options[@]}" : \
'--dir=[]:DIR:_files' \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(serve)
_arguments "${_arguments_options[@]}" : \
'--dir=[]:DIR:_files' \
'--listen=[The router'\''s LAN address to listen on, port 7489 by default]:ADDR[:PORT]:_default' \
'--max-validity=[Most seconds a certificate lives (less if a lease ends sooner) (60 to 4294967295)]:SECS:_default' \
'*--lan=[LAN prefix (repeatable), instead of the LAN interface'\''s addresses]:PREFIX:_default' \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
        esac
    ;;
esac
;;
(cert)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
":: :_dnatctl__subcmd__cert_commands" \
"*::: :->cert" \
&& ret=0

    case $state in
    (cert)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:dnatctl-cert-command-$line[1]:"
        case $line[1] in
            (request)
_arguments "${_arguments_options[@]}" : \
'--router=[The CA\: the router'\''s LAN address, port 7489 by default]:ADDR[:PORT]:_default' \
'--out=[Directory for key.pem, cert.pem, ca.pem (made 0700 if missing)]:DIR:_files' \
'*--ports=[Claim these ports (repeatable)]:FIRST-LAST:_default' \
'*--spis=[Claim these SPIs (repeatable; decimal or 0x hex)]:FIRST-LAST:_default' \
'--raw-csr=[Send FILE'\''s bytes as the CSR (tests\: malformed or forged requests)]:FILE:_files' \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(crl)
_arguments "${_arguments_options[@]}" : \
'--router=[]:ADDR[:PORT]:_default' \
'--out=[]:FILE:_files' \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
'--dir=[]:DIR:_files' \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(show)
_arguments "${_arguments_options[@]}" : \
'--dir=[]:DIR:_files' \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
':serial -- Serial number (decimal or 0x hex):_default' \
&& ret=0
;;
(revoke)
_arguments "${_arguments_options[@]}" : \
'--dir=[]:DIR:_files' \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help]' \
'--help[Print help]' \
':serial -- Serial number (decimal or 0x hex):_default' \
&& ret=0
;;
        esac
    ;;
esac
;;
(monitor)
_arguments "${_arguments_options[@]}" : \
'-j[Print the output as one JSON object]' \
'--json[Print the output as one JSON object]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'::which -- Only the events of this module (default\: both, or the one loaded):((router\:"The dnat_router module'\''s"
host\:"The dnat_host module'\''s"))' \
&& ret=0
;;
        esac
    ;;
esac
}

(( $+functions[_dnatctl_commands] )) ||
_dnatctl_commands() {
    local commands; commands=(
'router:The dnat_router module (on the router)' \
'host:The dnat_host module (on a host)' \
'pap:A userspace PAP client\: get ports or SPIs from the router, validate SAs and blacklist peers, without the dnat_host module' \
'ca:The router'\''s local certificate authority\: init, show, serve (on the router)' \
'cert:Certificates of the router'\''s CA\: request, crl (on a host); list, show, revoke (on the router)' \
'monitor:Print the events of the router and host modules as they happen' \
    )
    _describe -t commands 'dnatctl commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__ca_commands] )) ||
_dnatctl__subcmd__ca_commands() {
    local commands; commands=(
'init:Make a CA in DIR\: ECDSA P-256 key, self-signed certificate, empty index and CRL' \
'show:Print the CA\: subject, key type, fingerprint, next serial, certificates, counters' \
'serve:Serve certificates to the LAN hosts over TCP' \
    )
    _describe -t commands 'dnatctl ca commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__ca__subcmd__init_commands] )) ||
_dnatctl__subcmd__ca__subcmd__init_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl ca init commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__ca__subcmd__serve_commands] )) ||
_dnatctl__subcmd__ca__subcmd__serve_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl ca serve commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__ca__subcmd__show_commands] )) ||
_dnatctl__subcmd__ca__subcmd__show_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl ca show commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__cert_commands] )) ||
_dnatctl__subcmd__cert_commands() {
    local commands; commands=(
'request:Ask the router'\''s CA for a certificate of this host'\''s ports and SPIs (on a host)' \
'crl:Fetch the CA'\''s CRL into FILE (PEM if FILE ends in .pem, else DER)' \
'list:List the certificates the CA issued (on the router)' \
'show:Print one certificate the CA issued (on the router)' \
'revoke:Revoke a certificate\: new CRL, its blocks unpinned (on the router)' \
    )
    _describe -t commands 'dnatctl cert commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__cert__subcmd__crl_commands] )) ||
_dnatctl__subcmd__cert__subcmd__crl_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl cert crl commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__cert__subcmd__list_commands] )) ||
_dnatctl__subcmd__cert__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl cert list commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__cert__subcmd__request_commands] )) ||
_dnatctl__subcmd__cert__subcmd__request_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl cert request commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__cert__subcmd__revoke_commands] )) ||
_dnatctl__subcmd__cert__subcmd__revoke_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl cert revoke commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__cert__subcmd__show_commands] )) ||
_dnatctl__subcmd__cert__subcmd__show_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl cert show commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__host_commands] )) ||
_dnatctl__subcmd__host_commands() {
    local commands; commands=(
'show:Print the configuration and the per-hook packet counters (the default)' \
'set:Change some settings; the others keep their values' \
'showconf:Print the configuration in the file format of setconf' \
'setconf:Make the configuration exactly that of a file (as showconf prints it)' \
'stats:Print the data path and PAP client counters that are not 0' \
'blocks:Print the blocks of ports and SPIs the host holds' \
'sptt:Print the port and ICMP identifier translations, one per line' \
'translations:Print the port and ICMP identifier translations, one per line' \
'request:Ask the router for a block of ports or SPIs now' \
'release:Give a held block back to the router' \
'sa:Have the module validate or invalidate an SA with the router' \
'blacklist:Have the module add or remove a blacklist entry at the router' \
'sas:Print the SA validations the module has recorded, with their state' \
'spi:Reserve a free inbound SPI of the held SPI blocks in XFRM' \
'follow:Follow the kernel'\''s IPsec SAs and have the module validate and invalidate them with the router (a daemon)' \
    )
    _describe -t commands 'dnatctl host commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__host__subcmd__blacklist_commands] )) ||
_dnatctl__subcmd__host__subcmd__blacklist_commands() {
    local commands; commands=(
'add:Add an entry\: peer ADDR and/or spi SPI (BLACKLIST_ADD)' \
'del:Remove an entry, named as it was added (BLACKLIST_DEL)' \
    )
    _describe -t commands 'dnatctl host blacklist commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__host__subcmd__blacklist__subcmd__add_commands] )) ||
_dnatctl__subcmd__host__subcmd__blacklist__subcmd__add_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl host blacklist add commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__host__subcmd__blacklist__subcmd__del_commands] )) ||
_dnatctl__subcmd__host__subcmd__blacklist__subcmd__del_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl host blacklist del commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__host__subcmd__blocks_commands] )) ||
_dnatctl__subcmd__host__subcmd__blocks_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl host blocks commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__host__subcmd__follow_commands] )) ||
_dnatctl__subcmd__host__subcmd__follow_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl host follow commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__host__subcmd__release_commands] )) ||
_dnatctl__subcmd__host__subcmd__release_commands() {
    local commands; commands=(
'ports:Give back ports LOWEST to LOWEST + COUNT - 1' \
'spis:Give back SPIs LOWEST to LOWEST + COUNT - 1' \
    )
    _describe -t commands 'dnatctl host release commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__host__subcmd__release__subcmd__ports_commands] )) ||
_dnatctl__subcmd__host__subcmd__release__subcmd__ports_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl host release ports commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__host__subcmd__release__subcmd__spis_commands] )) ||
_dnatctl__subcmd__host__subcmd__release__subcmd__spis_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl host release spis commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__host__subcmd__request_commands] )) ||
_dnatctl__subcmd__host__subcmd__request_commands() {
    local commands; commands=(
'ports:Ask for COUNT ports' \
'spis:Ask for COUNT SPIs' \
    )
    _describe -t commands 'dnatctl host request commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__host__subcmd__request__subcmd__ports_commands] )) ||
_dnatctl__subcmd__host__subcmd__request__subcmd__ports_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl host request ports commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__host__subcmd__request__subcmd__spis_commands] )) ||
_dnatctl__subcmd__host__subcmd__request__subcmd__spis_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl host request spis commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__host__subcmd__sa_commands] )) ||
_dnatctl__subcmd__host__subcmd__sa_commands() {
    local commands; commands=(
'validate:Validate\: ESP/AH from PEER with SPI is for this host (SA_VALIDATE)' \
'invalidate:Invalidate\: the SA ended (SA_INVALIDATE)' \
    )
    _describe -t commands 'dnatctl host sa commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__host__subcmd__sa__subcmd__invalidate_commands] )) ||
_dnatctl__subcmd__host__subcmd__sa__subcmd__invalidate_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl host sa invalidate commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__host__subcmd__sa__subcmd__validate_commands] )) ||
_dnatctl__subcmd__host__subcmd__sa__subcmd__validate_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl host sa validate commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__host__subcmd__sas_commands] )) ||
_dnatctl__subcmd__host__subcmd__sas_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl host sas commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__host__subcmd__set_commands] )) ||
_dnatctl__subcmd__host__subcmd__set_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl host set commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__host__subcmd__setconf_commands] )) ||
_dnatctl__subcmd__host__subcmd__setconf_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl host setconf commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__host__subcmd__show_commands] )) ||
_dnatctl__subcmd__host__subcmd__show_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl host show commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__host__subcmd__showconf_commands] )) ||
_dnatctl__subcmd__host__subcmd__showconf_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl host showconf commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__host__subcmd__spi_commands] )) ||
_dnatctl__subcmd__host__subcmd__spi_commands() {
    local commands; commands=(
'alloc:Reserve a free inbound SPI of the held SPI blocks in XFRM (ALLOCSPI)' \
    )
    _describe -t commands 'dnatctl host spi commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__host__subcmd__spi__subcmd__alloc_commands] )) ||
_dnatctl__subcmd__host__subcmd__spi__subcmd__alloc_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl host spi alloc commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__host__subcmd__sptt_commands] )) ||
_dnatctl__subcmd__host__subcmd__sptt_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl host sptt commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__host__subcmd__stats_commands] )) ||
_dnatctl__subcmd__host__subcmd__stats_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl host stats commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__monitor_commands] )) ||
_dnatctl__subcmd__monitor_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl monitor commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__pap_commands] )) ||
_dnatctl__subcmd__pap_commands() {
    local commands; commands=(
'request:Ask the router for a block of ports or SPIs' \
'release:Give a block back to the router (block invalidate)' \
'validate:Tell the router an SA with PEER using inbound SPI exists (34/0)' \
'invalidate:Tell the router that SA ended (35/0)' \
'blacklist:Add or remove a blacklist entry (34/1, 35/1)' \
    )
    _describe -t commands 'dnatctl pap commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__pap__subcmd__blacklist_commands] )) ||
_dnatctl__subcmd__pap__subcmd__blacklist_commands() {
    local commands; commands=(
'add:Drop ESP/AH for this host from peer ADDR and/or with spi SPI (34/1)' \
'del:Remove that entry (35/1)' \
    )
    _describe -t commands 'dnatctl pap blacklist commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__pap__subcmd__blacklist__subcmd__add_commands] )) ||
_dnatctl__subcmd__pap__subcmd__blacklist__subcmd__add_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl pap blacklist add commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__pap__subcmd__blacklist__subcmd__del_commands] )) ||
_dnatctl__subcmd__pap__subcmd__blacklist__subcmd__del_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl pap blacklist del commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__pap__subcmd__invalidate_commands] )) ||
_dnatctl__subcmd__pap__subcmd__invalidate_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl pap invalidate commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__pap__subcmd__release_commands] )) ||
_dnatctl__subcmd__pap__subcmd__release_commands() {
    local commands; commands=(
'ports:Give back ports LOWEST to LOWEST + COUNT - 1' \
'spis:Give back SPIs LOWEST to LOWEST + COUNT - 1' \
    )
    _describe -t commands 'dnatctl pap release commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__pap__subcmd__release__subcmd__ports_commands] )) ||
_dnatctl__subcmd__pap__subcmd__release__subcmd__ports_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl pap release ports commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__pap__subcmd__release__subcmd__spis_commands] )) ||
_dnatctl__subcmd__pap__subcmd__release__subcmd__spis_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl pap release spis commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__pap__subcmd__request_commands] )) ||
_dnatctl__subcmd__pap__subcmd__request_commands() {
    local commands; commands=(
'ports:Ask for COUNT ports' \
'spis:Ask for COUNT SPIs' \
    )
    _describe -t commands 'dnatctl pap request commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__pap__subcmd__request__subcmd__ports_commands] )) ||
_dnatctl__subcmd__pap__subcmd__request__subcmd__ports_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl pap request ports commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__pap__subcmd__request__subcmd__spis_commands] )) ||
_dnatctl__subcmd__pap__subcmd__request__subcmd__spis_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl pap request spis commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__pap__subcmd__validate_commands] )) ||
_dnatctl__subcmd__pap__subcmd__validate_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl pap validate commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__router_commands] )) ||
_dnatctl__subcmd__router_commands() {
    local commands; commands=(
'show:Print the configuration and the per-hook packet counters (the default)' \
'set:Change some settings; the others keep their values' \
'showconf:Print the configuration in the file format of setconf' \
'setconf:Make the configuration exactly that of a file (as showconf prints it)' \
'blocks:Print the blocks allocated to hosts, grouped by host' \
'stats:Print the counters of the PAP server and of the data path that are not 0' \
'hosts:Print the hosts\: ports and SPIs held, the quota in effect, packets in and out, spoofed packets, ESP/AH dropped by the SA checks, bytes in and out' \
'revoke:Revoke a host\: invalidate all it holds and refuse it service until readmitted' \
'readmit:Readmit a revoked host' \
'quota:Give a host its own quota of ports and SPIs, or put it back on the default' \
'delivery:Set how the router delivers to a host\: IP-in-IP or direct (to its Ethernet address)' \
'reset:Invalidate every allocation, start a new epoch and broadcast invalidate-all on the LAN' \
'sas:Print the established SAs\: host, peer, inbound SPI' \
'sa:Validate or invalidate an SA for a host' \
'blacklist:Print the blacklist, or add or remove an entry' \
    )
    _describe -t commands 'dnatctl router commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__router__subcmd__blacklist_commands] )) ||
_dnatctl__subcmd__router__subcmd__blacklist_commands() {
    local commands; commands=(
'show:Print the blacklist entries (the default)' \
'add:Add an entry for HOST\: peer ADDR and/or spi SPI (BLACKLIST_ADD)' \
'del:Remove an entry of HOST, named as it was added (BLACKLIST_DEL)' \
    )
    _describe -t commands 'dnatctl router blacklist commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__router__subcmd__blacklist__subcmd__add_commands] )) ||
_dnatctl__subcmd__router__subcmd__blacklist__subcmd__add_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl router blacklist add commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__router__subcmd__blacklist__subcmd__del_commands] )) ||
_dnatctl__subcmd__router__subcmd__blacklist__subcmd__del_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl router blacklist del commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__router__subcmd__blacklist__subcmd__show_commands] )) ||
_dnatctl__subcmd__router__subcmd__blacklist__subcmd__show_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl router blacklist show commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__router__subcmd__blocks_commands] )) ||
_dnatctl__subcmd__router__subcmd__blocks_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl router blocks commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__router__subcmd__delivery_commands] )) ||
_dnatctl__subcmd__router__subcmd__delivery_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl router delivery commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__router__subcmd__hosts_commands] )) ||
_dnatctl__subcmd__router__subcmd__hosts_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl router hosts commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__router__subcmd__quota_commands] )) ||
_dnatctl__subcmd__router__subcmd__quota_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl router quota commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__router__subcmd__readmit_commands] )) ||
_dnatctl__subcmd__router__subcmd__readmit_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl router readmit commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__router__subcmd__reset_commands] )) ||
_dnatctl__subcmd__router__subcmd__reset_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl router reset commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__router__subcmd__revoke_commands] )) ||
_dnatctl__subcmd__router__subcmd__revoke_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl router revoke commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__router__subcmd__sa_commands] )) ||
_dnatctl__subcmd__router__subcmd__sa_commands() {
    local commands; commands=(
'validate:Validate\: ESP/AH from PEER with SPI is for HOST (SA_VALIDATE)' \
'invalidate:Invalidate\: the SA ended (SA_INVALIDATE)' \
    )
    _describe -t commands 'dnatctl router sa commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__router__subcmd__sa__subcmd__invalidate_commands] )) ||
_dnatctl__subcmd__router__subcmd__sa__subcmd__invalidate_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl router sa invalidate commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__router__subcmd__sa__subcmd__validate_commands] )) ||
_dnatctl__subcmd__router__subcmd__sa__subcmd__validate_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl router sa validate commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__router__subcmd__sas_commands] )) ||
_dnatctl__subcmd__router__subcmd__sas_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl router sas commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__router__subcmd__set_commands] )) ||
_dnatctl__subcmd__router__subcmd__set_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl router set commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__router__subcmd__setconf_commands] )) ||
_dnatctl__subcmd__router__subcmd__setconf_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl router setconf commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__router__subcmd__show_commands] )) ||
_dnatctl__subcmd__router__subcmd__show_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl router show commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__router__subcmd__showconf_commands] )) ||
_dnatctl__subcmd__router__subcmd__showconf_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl router showconf commands' commands "$@"
}
(( $+functions[_dnatctl__subcmd__router__subcmd__stats_commands] )) ||
_dnatctl__subcmd__router__subcmd__stats_commands() {
    local commands; commands=()
    _describe -t commands 'dnatctl router stats commands' commands "$@"
}

if [ "$funcstack[1]" = "_dnatctl" ]; then
    _dnatctl "$@"
else
    compdef _dnatctl dnatctl
fi
