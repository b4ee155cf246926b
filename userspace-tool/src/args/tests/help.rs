// SPDX-License-Identifier: GPL-2.0

//! What the help texts say: the exit codes, the settings, the commands.

use clap::error::ErrorKind;

use super::*;

#[test]
fn help_documents_exit_codes() {
    let e = cli("--help").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DisplayHelp);
    let help = e.to_string();
    assert!(help.contains("Exit codes:"), "{help}");
    assert!(
        help.contains("3  the generic netlink family is not registered"),
        "{help}"
    );
    assert!(
        help.contains("Errors are printed on standard error as \"dnatctl: CONTEXT: REASON\""),
        "{help}"
    );
    assert!(help.contains("2  usage error"), "{help}");
    let help = cli("router set --help").unwrap_err().to_string();
    assert!(help.contains("spis MIN-MAX"), "{help}");
    assert!(help.contains("unowned local|drop"), "{help}");
    assert!(help.contains("sa-policy strict|permissive"), "{help}");
    assert!(help.contains("pap-rate N"), "{help}");
    assert!(help.contains("pap-auth required|optional"), "{help}");
    let help = cli("router --help").unwrap_err().to_string();
    for word in [
        "hosts",
        "revoke",
        "readmit",
        "quota",
        "reset",
        "sas",
        "sa ",
        "blacklist",
    ] {
        assert!(help.contains(word), "{help}");
    }
    let help = cli("pap request ports --help").unwrap_err().to_string();
    assert!(help.contains("--native"), "{help}");
    assert!(help.contains("lease SECONDS"), "{help}");
    let help = cli("host --help").unwrap_err().to_string();
    for word in [
        "stats",
        "blocks",
        "sptt",
        "translations",
        "request",
        "release",
        "sa ",
        "blacklist",
    ] {
        assert!(help.contains(word), "{help}");
    }
    let help = cli("host sa validate --help").unwrap_err().to_string();
    assert!(help.contains("0x hex"), "{help}");
    let help = cli("host blacklist add --help").unwrap_err().to_string();
    assert!(help.contains("peer ADDR"), "{help}");
    let help = cli("host set --help").unwrap_err().to_string();
    for word in [
        "dev IFNAME",
        "mode translate|native",
        "tcp-timeout SECS",
        "udp-timeout SECS",
        "port-block N",
    ] {
        assert!(help.contains(word), "{help}");
    }
    let help = cli("host request ports --help").unwrap_err().to_string();
    assert!(help.contains("dnatctl host blocks"), "{help}");
    let help = cli("host release spis --help").unwrap_err().to_string();
    assert!(help.contains("0x hex"), "{help}");
    let help = cli("pap --help").unwrap_err().to_string();
    assert!(
        help.contains("4  no answer after 4 transmissions"),
        "{help}"
    );
    for word in ["validate", "invalidate", "blacklist"] {
        assert!(help.contains(word), "{help}");
    }
    let help = cli("pap validate --help").unwrap_err().to_string();
    assert!(help.contains("validated 203.0.113.3 spi 0x1000"), "{help}");
    let help = cli("pap blacklist add --help").unwrap_err().to_string();
    assert!(help.contains("peer ADDR"), "{help}");
    let help = cli("router sa validate --help").unwrap_err().to_string();
    assert!(help.contains("EPERM"), "{help}");
    let help = cli("router blacklist --help").unwrap_err().to_string();
    assert!(
        help.contains("10.0.0.1 peer 203.0.113.66 spi any"),
        "{help}"
    );
    let help = cli("router quota --help").unwrap_err().to_string();
    for word in [
        "ports N",
        "spis N",
        "default",
        "SET_QUOTA",
        "EINVAL",
        "ENOSPC",
        "quota PORTS/SPIS",
        "Example: dnatctl router quota 10.0.0.1 ports 100 spis 16",
    ] {
        assert!(help.contains(word), "{help}");
    }
}
