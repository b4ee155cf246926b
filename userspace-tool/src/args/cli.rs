// SPDX-License-Identifier: GPL-2.0

//! The clap definitions of the command words: the objects (`router`,
//! `host`, `pap`, ...), their commands and arguments. The word lists they
//! take (`set`, `quota`, `blacklist`, `pap`) are parsed after clap, by the
//! types of `settings.rs` and `options.rs`.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use super::help::{
    host_request_help, host_set_help, pap_blacklist_help, pap_request_ports_help,
    pap_request_spis_help, pap_sa_help, router_quota_help, router_set_help, HOST_RELEASE_HELP,
    HOST_SETCONF_HELP, HOST_SHOWCONF_HELP, LONG_ABOUT, PAP_EXIT, PAP_RELEASE_PORTS_HELP,
    PAP_RELEASE_SPIS_HELP, ROUTER_BLACKLIST_HELP, ROUTER_DELIVERY_HELP, ROUTER_SA_HELP,
    ROUTER_SETCONF_HELP, ROUTER_SHOWCONF_HELP,
};
use super::words::addr_arg;
use crate::limit::{PORT, PORT_COUNT, SPI, SPI_COUNT};

/// dnatctl: configure the dnat router and host modules.
#[derive(Debug, Parser)]
#[command(name = "dnatctl", version, long_about = LONG_ABOUT)]
pub struct Cli {
    /// Print the output as one JSON object.
    #[arg(short, long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub object: Object,
}

impl Cli {
    /// The word list of the command ("KEY VALUE" pairs of `set`, the
    /// words of `quota`, `blacklist` and `pap`), if it has one.
    pub fn words(&self) -> Option<&[String]> {
        use HostBlacklist as HB;
        use PapBlacklist as PB;
        use RouterBlacklist as RB;
        let w = match &self.object {
            Object::Router { cmd: Some(c) } => match c {
                RouterCmd::Set { settings } => settings,
                RouterCmd::Quota { words, .. } => words,
                RouterCmd::Delivery { words, .. } => words,
                RouterCmd::Blacklist {
                    cmd: Some(RB::Add { words, .. } | RB::Del { words, .. }),
                } => words,
                _ => return None,
            },
            Object::Host { cmd: Some(c) } => match c {
                HostCmd::Set { settings } => settings,
                HostCmd::Blacklist {
                    what: HB::Add { words } | HB::Del { words },
                } => words,
                _ => return None,
            },
            Object::Pap { cmd } => match cmd {
                PapCmd::Request {
                    what: PapRequest::Ports { options, .. } | PapRequest::Spis { options, .. },
                }
                | PapCmd::Release {
                    what: PapRelease::Ports { options, .. } | PapRelease::Spis { options, .. },
                }
                | PapCmd::Validate { options, .. }
                | PapCmd::Invalidate { options, .. }
                | PapCmd::Blacklist {
                    what: PB::Add { options } | PB::Del { options },
                } => options,
            },
            _ => return None,
        };
        Some(w)
    }

    /// Whether the word list asks for help: `-h` or `--help` among the
    /// words after `--`, which clap takes as values (before `--` clap
    /// itself prints the help).
    pub fn wants_help(&self) -> bool {
        self.words()
            .is_some_and(|w| w.iter().any(|w| w == "-h" || w == "--help"))
    }
}

#[derive(Debug, Subcommand)]
pub enum Object {
    /// The dnat_router module (on the router).
    Router {
        #[command(subcommand)]
        cmd: Option<RouterCmd>,
    },
    /// The dnat_host module (on a host).
    Host {
        #[command(subcommand)]
        cmd: Option<HostCmd>,
    },
    /// A userspace PAP client: get ports or SPIs from the router, validate
    /// SAs and blacklist peers, without the dnat_host module.
    #[command(after_help = PAP_EXIT)]
    Pap {
        #[command(subcommand)]
        cmd: PapCmd,
    },
    /// The router's local certificate authority: init, show, serve (on the router).
    Ca {
        #[command(subcommand)]
        cmd: crate::ca::cli::CaCmd,
    },
    /// Certificates of the router's CA: request, crl (on a host); list, show, revoke
    /// (on the router).
    Cert {
        #[command(subcommand)]
        cmd: crate::ca::cli::CertCmd,
    },
    /// Print the events of the router and host modules as they happen.
    #[command(after_help = crate::monitor::HELP)]
    Monitor {
        /// Only the events of this module (default: both, or the one loaded).
        #[arg(value_enum)]
        which: Option<crate::monitor::Which>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RouterCmd {
    /// Print the configuration and the per-hook packet counters (the default).
    Show,
    /// Change some settings; the others keep their values.
    #[command(after_help = router_set_help())]
    Set {
        /// Settings: lan IFNAME, wan IFNAME, public ADDR, ports MIN-MAX, spis MIN-MAX,
        /// unowned local|drop, quota-ports N, quota-spis N, sa-policy strict|permissive,
        /// hook-counters on|off, pap-rate N, pap-auth required|optional.
        #[arg(value_name = "KEY VALUE", allow_negative_numbers = true)]
        settings: Vec<String>,
    },
    /// Print the configuration in the file format of setconf.
    #[command(after_help = ROUTER_SHOWCONF_HELP)]
    Showconf,
    /// Make the configuration exactly that of a file (as showconf prints it).
    #[command(after_help = ROUTER_SETCONF_HELP)]
    Setconf {
        /// The file; - for the standard input.
        #[arg(value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
        file: PathBuf,
    },
    /// Print the blocks allocated to hosts, grouped by host.
    Blocks,
    /// Print the counters of the PAP server and of the data path that are not 0.
    Stats(StatsArgs),
    /// Print the hosts: ports and SPIs held, the quota in effect, packets in and
    /// out, spoofed packets, ESP/AH dropped by the SA checks, bytes in and out.
    Hosts,
    /// Revoke a host: invalidate all it holds and refuse it service until readmitted.
    Revoke {
        /// The host's LAN address.
        #[arg(value_name = "ADDR", value_parser = addr_arg)]
        addr: Ipv4Addr,
    },
    /// Readmit a revoked host.
    Readmit {
        /// The host's LAN address.
        #[arg(value_name = "ADDR", value_parser = addr_arg)]
        addr: Ipv4Addr,
    },
    /// Give a host its own quota of ports and SPIs, or put it back on the default.
    #[command(after_help = router_quota_help())]
    Quota {
        /// The host's LAN address.
        #[arg(value_name = "ADDR", value_parser = addr_arg)]
        addr: Ipv4Addr,
        /// ports N, spis N, or default.
        #[arg(value_name = "WORD", allow_negative_numbers = true)]
        words: Vec<String>,
    },
    /// Set how the router delivers to a host: IP-in-IP or direct (to its
    /// Ethernet address).
    #[command(after_help = ROUTER_DELIVERY_HELP)]
    Delivery {
        /// The host's LAN address.
        #[arg(value_name = "ADDR", value_parser = addr_arg)]
        addr: Ipv4Addr,
        /// ipip, or direct [lladdr MAC].
        #[arg(value_name = "WORD")]
        words: Vec<String>,
    },
    /// Invalidate every allocation, start a new epoch and broadcast
    /// invalidate-all on the LAN.
    Reset,
    /// Print the established SAs: host, peer, inbound SPI.
    Sas,
    /// Validate or invalidate an SA for a host.
    #[command(after_help = ROUTER_SA_HELP)]
    Sa {
        #[command(subcommand)]
        what: RouterSa,
    },
    /// Print the blacklist, or add or remove an entry.
    #[command(after_help = ROUTER_BLACKLIST_HELP)]
    Blacklist {
        #[command(subcommand)]
        cmd: Option<RouterBlacklist>,
    },
}

/// How `router stats` and `host stats` print.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct StatsArgs {
    /// Print every counter, those that are 0 too (--json and --prometheus always have
    /// them all).
    #[arg(short, long)]
    pub all: bool,
    /// Print the counters in the Prometheus text format, for node_exporter's textfile
    /// collector (router stats: with the hosts of router hosts, labelled by address).
    #[arg(long)]
    pub prometheus: bool,
    /// With --prometheus: write FILE atomically (a temporary file in its directory,
    /// renamed over it) instead of printing.
    #[arg(short, long, value_name = "FILE", requires = "prometheus")]
    pub output: Option<std::path::PathBuf>,
}

impl StatsArgs {
    /// Refuses --prometheus with the global --json (clap cannot tie a
    /// subcommand's flag to a global one given before the subcommand).
    pub fn check(&self, json: bool) -> Result<(), String> {
        if self.prometheus && json {
            return Err("--prometheus and --json exclude each other".into());
        }
        Ok(())
    }
}

/// An SA: the host, its peer and the inbound SPI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
pub struct SaArgs {
    /// The host's LAN address.
    #[arg(value_name = "HOST", value_parser = addr_arg)]
    pub host: Ipv4Addr,
    /// The SA peer's external address.
    #[arg(value_name = "PEER", value_parser = addr_arg)]
    pub peer: Ipv4Addr,
    #[arg(value_name = "SPI", allow_negative_numbers = true, value_parser = SPI.arg::<u32>(),
          help = SPI.help("The SA's inbound SPI"))]
    pub spi: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub enum RouterSa {
    /// Validate: ESP/AH from PEER with SPI is for HOST (SA_VALIDATE).
    #[command(after_help = ROUTER_SA_HELP)]
    Validate(SaArgs),
    /// Invalidate: the SA ended (SA_INVALIDATE).
    #[command(after_help = ROUTER_SA_HELP)]
    Invalidate(SaArgs),
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum RouterBlacklist {
    /// Print the blacklist entries (the default).
    Show,
    /// Add an entry for HOST: peer ADDR and/or spi SPI (BLACKLIST_ADD).
    #[command(after_help = ROUTER_BLACKLIST_HELP)]
    Add {
        /// The host's LAN address.
        #[arg(value_name = "HOST", value_parser = addr_arg)]
        host: Ipv4Addr,
        /// peer ADDR, spi SPI.
        #[arg(value_name = "WORD", allow_negative_numbers = true)]
        words: Vec<String>,
    },
    /// Remove an entry of HOST, named as it was added (BLACKLIST_DEL).
    #[command(after_help = ROUTER_BLACKLIST_HELP)]
    Del {
        /// The host's LAN address.
        #[arg(value_name = "HOST", value_parser = addr_arg)]
        host: Ipv4Addr,
        /// peer ADDR, spi SPI.
        #[arg(value_name = "WORD", allow_negative_numbers = true)]
        words: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum HostCmd {
    /// Print the configuration and the per-hook packet counters (the default).
    Show,
    /// Change some settings; the others keep their values.
    #[command(after_help = host_set_help())]
    Set {
        /// Settings: router ADDR, public ADDR, dev IFNAME, mode translate|native,
        /// tcp-timeout SECS, udp-timeout SECS, port-block N, hook-counters on|off,
        /// delivery ipip|direct.
        #[arg(value_name = "KEY VALUE", allow_negative_numbers = true)]
        settings: Vec<String>,
    },
    /// Print the configuration in the file format of setconf.
    #[command(after_help = HOST_SHOWCONF_HELP)]
    Showconf,
    /// Make the configuration exactly that of a file (as showconf prints it).
    #[command(after_help = HOST_SETCONF_HELP)]
    Setconf {
        /// The file; - for the standard input.
        #[arg(value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
        file: PathBuf,
    },
    /// Print the data path and PAP client counters that are not 0.
    Stats(StatsArgs),
    /// Print the blocks of ports and SPIs the host holds.
    Blocks,
    /// Print the port and ICMP identifier translations, one per line.
    #[command(visible_alias = "translations")]
    Sptt,
    /// Ask the router for a block of ports or SPIs now.
    #[command(after_help = host_request_help())]
    Request {
        #[command(subcommand)]
        what: HostRequest,
    },
    /// Give a held block back to the router.
    #[command(after_help = HOST_RELEASE_HELP)]
    Release {
        #[command(subcommand)]
        what: HostRelease,
    },
    /// Have the module validate or invalidate an SA with the router.
    Sa {
        #[command(subcommand)]
        what: HostSa,
    },
    /// Have the module add or remove a blacklist entry at the router.
    Blacklist {
        #[command(subcommand)]
        what: HostBlacklist,
    },
    /// Print the SA validations the module has recorded, with their state.
    #[command(after_help = crate::host_sas::HELP)]
    Sas,
    /// Reserve a free inbound SPI of the held SPI blocks in XFRM.
    Spi {
        #[command(subcommand)]
        what: crate::spi::HostSpi,
    },
    /// Follow the kernel's IPsec SAs and have the module validate and
    /// invalidate them with the router (a daemon).
    #[command(after_help = crate::follow::HELP)]
    Follow(crate::follow::FollowArgs),
}

/// An SA of this host: its peer and the inbound SPI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
pub struct HostSaArgs {
    /// The SA peer's external address.
    #[arg(value_name = "PEER", value_parser = addr_arg)]
    pub peer: Ipv4Addr,
    #[arg(value_name = "SPI", allow_negative_numbers = true, value_parser = SPI.arg::<u32>(),
          help = SPI.help("The SA's inbound SPI"))]
    pub spi: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub enum HostSa {
    /// Validate: ESP/AH from PEER with SPI is for this host (SA_VALIDATE).
    Validate(HostSaArgs),
    /// Invalidate: the SA ended (SA_INVALIDATE).
    Invalidate(HostSaArgs),
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum HostBlacklist {
    /// Add an entry: peer ADDR and/or spi SPI (BLACKLIST_ADD).
    Add {
        /// peer ADDR, spi SPI.
        #[arg(value_name = "WORD", allow_negative_numbers = true)]
        words: Vec<String>,
    },
    /// Remove an entry, named as it was added (BLACKLIST_DEL).
    Del {
        /// peer ADDR, spi SPI.
        #[arg(value_name = "WORD", allow_negative_numbers = true)]
        words: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub enum HostRequest {
    /// Ask for COUNT ports.
    #[command(after_help = host_request_help())]
    Ports {
        #[arg(allow_negative_numbers = true, value_parser = PORT_COUNT.arg::<u32>(), help = PORT_COUNT.help("Number of ports"))]
        count: u32,
    },
    /// Ask for COUNT SPIs.
    #[command(after_help = host_request_help())]
    Spis {
        #[arg(allow_negative_numbers = true, value_parser = SPI_COUNT.arg::<u32>(), help = SPI_COUNT.help("Number of SPIs"))]
        count: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub enum HostRelease {
    /// Give back ports LOWEST to LOWEST + COUNT - 1.
    #[command(after_help = HOST_RELEASE_HELP)]
    Ports {
        #[arg(allow_negative_numbers = true, value_parser = PORT.arg::<u32>(), help = PORT.help("First port of the block"))]
        lowest: u32,
        #[arg(allow_negative_numbers = true, value_parser = PORT_COUNT.arg::<u32>(), help = PORT_COUNT.help("Number of ports"))]
        count: u32,
    },
    /// Give back SPIs LOWEST to LOWEST + COUNT - 1.
    #[command(after_help = HOST_RELEASE_HELP)]
    Spis {
        #[arg(allow_negative_numbers = true, value_parser = SPI.arg::<u32>(), help = SPI.help("First SPI of the block"))]
        lowest: u32,
        #[arg(allow_negative_numbers = true, value_parser = SPI_COUNT.arg::<u32>(), help = SPI_COUNT.help("Number of SPIs"))]
        count: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum PapCmd {
    /// Ask the router for a block of ports or SPIs.
    #[command(after_help = PAP_EXIT)]
    Request {
        #[command(subcommand)]
        what: PapRequest,
    },
    /// Give a block back to the router (block invalidate).
    #[command(after_help = PAP_EXIT)]
    Release {
        #[command(subcommand)]
        what: PapRelease,
    },
    /// Tell the router an SA with PEER using inbound SPI exists (34/0).
    #[command(after_help = pap_sa_help())]
    Validate {
        /// The SA peer's external address.
        #[arg(value_name = "PEER", value_parser = addr_arg)]
        peer: Ipv4Addr,
        #[arg(value_name = "SPI", allow_negative_numbers = true, value_parser = SPI.arg::<u32>(),
              help = SPI.help("The SA's inbound SPI"))]
        spi: u32,
        /// router ADDR.
        #[arg(value_name = "WORD", allow_negative_numbers = true)]
        options: Vec<String>,
    },
    /// Tell the router that SA ended (35/0).
    #[command(after_help = pap_sa_help())]
    Invalidate {
        /// The SA peer's external address.
        #[arg(value_name = "PEER", value_parser = addr_arg)]
        peer: Ipv4Addr,
        #[arg(value_name = "SPI", allow_negative_numbers = true, value_parser = SPI.arg::<u32>(),
              help = SPI.help("The SA's inbound SPI"))]
        spi: u32,
        /// router ADDR.
        #[arg(value_name = "WORD", allow_negative_numbers = true)]
        options: Vec<String>,
    },
    /// Add or remove a blacklist entry (34/1, 35/1).
    #[command(after_help = pap_blacklist_help())]
    Blacklist {
        #[command(subcommand)]
        what: PapBlacklist,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum PapBlacklist {
    /// Drop ESP/AH for this host from peer ADDR and/or with spi SPI (34/1).
    #[command(after_help = pap_blacklist_help())]
    Add {
        /// peer ADDR, spi SPI, router ADDR.
        #[arg(value_name = "WORD", allow_negative_numbers = true)]
        options: Vec<String>,
    },
    /// Remove that entry (35/1).
    #[command(after_help = pap_blacklist_help())]
    Del {
        /// peer ADDR, spi SPI, router ADDR.
        #[arg(value_name = "WORD", allow_negative_numbers = true)]
        options: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PapRequest {
    /// Ask for COUNT ports.
    #[command(after_help = pap_request_ports_help())]
    Ports {
        #[arg(allow_negative_numbers = true, value_parser = PORT_COUNT.arg::<u8>(),
              help = PORT_COUNT.help("Number of ports (the router may grant fewer)"))]
        count: u8,
        /// Set net.ipv4.ip_local_port_range to the granted block.
        #[arg(long)]
        native: bool,
        /// low | high, router ADDR, lease SECONDS.
        #[arg(value_name = "WORD", allow_negative_numbers = true)]
        options: Vec<String>,
    },
    /// Ask for COUNT SPIs.
    #[command(after_help = pap_request_spis_help())]
    Spis {
        #[arg(allow_negative_numbers = true, value_parser = SPI_COUNT.arg::<u16>(),
              help = SPI_COUNT.help("Number of SPIs (the router may grant fewer)"))]
        count: u16,
        /// router ADDR, lease SECONDS.
        #[arg(value_name = "WORD", allow_negative_numbers = true)]
        options: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PapRelease {
    /// Give back ports LOWEST to LOWEST + COUNT - 1.
    #[command(after_help = PAP_RELEASE_PORTS_HELP)]
    Ports {
        #[arg(allow_negative_numbers = true, value_parser = PORT.arg::<u16>(), help = PORT.help("First port of the block"))]
        lowest: u16,
        #[arg(allow_negative_numbers = true, value_parser = PORT_COUNT.arg::<u8>(), help = PORT_COUNT.help("Number of ports"))]
        count: u8,
        /// router ADDR.
        #[arg(value_name = "WORD", allow_negative_numbers = true)]
        options: Vec<String>,
    },
    /// Give back SPIs LOWEST to LOWEST + COUNT - 1.
    #[command(after_help = PAP_RELEASE_SPIS_HELP)]
    Spis {
        #[arg(allow_negative_numbers = true, value_parser = SPI.arg::<u32>(), help = SPI.help("First SPI of the block"))]
        lowest: u32,
        #[arg(allow_negative_numbers = true, value_parser = SPI_COUNT.arg::<u16>(), help = SPI_COUNT.help("Number of SPIs"))]
        count: u16,
        /// router ADDR.
        #[arg(value_name = "WORD", allow_negative_numbers = true)]
        options: Vec<String>,
    },
}
