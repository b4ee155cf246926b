// SPDX-License-Identifier: GPL-2.0

//! The reader side's lookups, the layout checks and the memory.

use super::*;

/// Hosts whose addresses share the low 12 bits are found through the
/// scan; the index entry goes back to the remaining host, then to none,
/// as they leave.
#[test]
fn host_index_collisions() {
    let mut s = with_pools(8, big(), (1024, 2047), (256, 4095));
    let (a, b, c) = (
        Ipv4Addr::new(10, 0, 0, 1),
        Ipv4Addr::new(10, 0, 16, 1),
        Ipv4Addr::new(10, 0, 0, 2),
    );
    let mut t = s.table();
    let ga = t.request_ports(a, 4, true, 0, 0).unwrap();
    let gb = t.request_ports(b, 4, true, 0, 0).unwrap();
    let gc = t.request_ports(c, 4, true, 0, 0).unwrap();
    let sh = t.shared();
    assert_eq!(sh.host_index[1].load(Ordering::Relaxed), HOST_COLLIDED);
    assert_eq!(sh.host_index[2].load(Ordering::Relaxed), u32::from(gc.slot));
    assert_eq!(sh.find_host(u32::from(a)), Some(ga.slot));
    assert_eq!(sh.find_host(u32::from(b)), Some(gb.slot));
    assert_eq!(sh.find_host(u32::from(c)), Some(gc.slot));
    assert_eq!(sh.find_host(u32::from(Ipv4Addr::new(10, 0, 32, 1))), None);
    assert_eq!(sh.find_host(u32::from(Ipv4Addr::new(10, 0, 0, 3))), None);
    assert_eq!(sh.find_host(0), None);
    check(&mut s);
    let mut t = s.table();
    t.invalidate_block(Some(a), Kind::Port, ga.lowest, None)
        .unwrap();
    grace(&mut t);
    let sh = t.shared();
    assert_eq!(sh.find_host(u32::from(a)), None);
    assert_eq!(sh.host_index[1].load(Ordering::Relaxed), u32::from(gb.slot));
    assert_eq!(sh.find_host(u32::from(b)), Some(gb.slot));
    check(&mut s);
    let mut t = s.table();
    t.invalidate_block(Some(b), Kind::Port, gb.lowest, None)
        .unwrap();
    grace(&mut t);
    assert_eq!(t.shared().host_index[1].load(Ordering::Relaxed), 0);
    check(&mut s);
}

/// Lookups through the SPI directory agree with a linear search of
/// the blocks, whatever their spread: one block, blocks crowded into
/// one chunk beside one far away (the directory's worst case), blocks
/// at both ends of the 32-bit space, and every chunk boundary.
#[test]
fn spi_directory_agrees_with_a_scan() {
    let layouts: [&[(u32, u32)]; 4] = [
        &[(0x1000, 1)],
        &[(256, 1), (257, 1), (258, 3), (261, 1), (0xffff_ffe0, 16)],
        &[
            (0x1000, 16),
            (0x2000, 1024),
            (0x8000_0000, 7),
            (0xffff_ffff, 1),
        ],
        &[(300, 40), (341, 1), (343, 2), (9000, 100), (70_000, 5000)],
    ];
    for blocks in layouts {
        let mut s = with_pools(4, big(), (1024, 2047), (256, u32::MAX));
        let mut t = s.table();
        for (i, &(lo, n)) in blocks.iter().enumerate() {
            let g = t
                .renew(h(1 + (i % 4) as u8), Kind::Spi, lo, Some(n), 0, 0)
                .unwrap();
            assert_eq!((g.lowest, g.count), (lo, n));
        }
        grace(&mut t);
        check(&mut s);
        let sh = s.shared();
        let scan = |v: u32| {
            blocks
                .iter()
                .enumerate()
                .find(|(_, &(lo, n))| v >= lo && v - lo < n)
                .map(|(i, _)| (i % 4) as u16 + 1)
        };
        // Every block edge and its neighbours, every chunk start, and
        // a sweep.
        let w = sh.spi_ctl.load(Ordering::Relaxed);
        let dir = sh.spi_dir[(w >> SPI_BUF_SHIFT) as usize];
        let (base, shift) = (
            dir[0].load(Ordering::Relaxed),
            dir[1].load(Ordering::Relaxed),
        );
        let mut probes: Vec<u32> = std::vec![0, 1, 255, 256, u32::MAX];
        for &(lo, n) in blocks {
            let last = lo + (n - 1);
            for v in [
                lo - 1,
                lo,
                lo.wrapping_add(1),
                last - 1,
                last,
                last.wrapping_add(1),
            ] {
                probes.push(v);
            }
        }
        for c in 0..(dir.len() - SPI_DIR_HEAD) as u64 {
            let v = u64::from(base) + (c << shift);
            for d in [0, 1] {
                if let Ok(v) = u32::try_from((v + d).saturating_sub(d * 2)) {
                    probes.push(v);
                }
            }
        }
        probes.extend((0..4096u32).map(|i| i.wrapping_mul(0x0010_0001)));
        for v in probes {
            assert_eq!(sh.owner_of_spi(v), scan(v), "spi {v:#x} in {blocks:x?}");
        }
    }
}

#[test]
fn layout_is_checked() {
    let s = Store::new(4, Settings::DEFAULT);
    assert_eq!(
        Shared::new(
            &s.ports[1..],
            &s.addrs,
            &s.host_index,
            &s.spi,
            &s.spi_dir,
            &s.ctl
        )
        .unwrap_err(),
        AllocError::BadLayout
    );
    assert_eq!(
        Shared::new(
            &s.ports,
            &s.addrs[1..],
            &s.host_index,
            &s.spi,
            &s.spi_dir,
            &s.ctl
        )
        .unwrap_err(),
        AllocError::BadLayout
    );
    assert_eq!(
        Shared::new(
            &s.ports,
            &s.addrs[..1],
            &s.host_index,
            &s.spi[..0],
            &s.spi_dir,
            &s.ctl
        )
        .unwrap_err(),
        AllocError::BadLayout
    );
    assert_eq!(
        Shared::new(
            &s.ports,
            &s.addrs,
            &s.host_index,
            &s.spi,
            &s.spi_dir[1..],
            &s.ctl
        )
        .unwrap_err(),
        AllocError::BadLayout
    );
    assert_eq!(
        Shared::new(
            &s.ports,
            &s.addrs,
            &s.host_index[1..],
            &s.spi,
            &s.spi_dir,
            &s.ctl
        )
        .unwrap_err(),
        AllocError::BadLayout
    );
    let mut s = s;
    let sh = Shared::new(
        &s.ports,
        &s.addrs,
        &s.host_index,
        &s.spi,
        &s.spi_dir,
        &s.ctl,
    )
    .unwrap();
    assert_eq!(sh.capacity(), 4);
    let e = AllocTable::new(
        sh,
        &mut s.hosts[1..],
        &mut s.port_list,
        &mut s.spi_list,
        &mut s.st,
    );
    assert_eq!(e.unwrap_err(), AllocError::BadLayout);
}

#[test]
fn million_spis_in_many_blocks() {
    const HOSTS: usize = 4096;
    let mut s = with_pools(HOSTS, big(), (1000, 2000), (256, 256 + (1 << 20) - 1));
    let mut t = s.table();
    for n in 0..HOSTS {
        let a = Ipv4Addr::from(0x0a00_0001u32 + n as u32);
        for _ in 0..SPI_BLOCKS_PER_HOST {
            let g = t.request_spis(a, 16, 0, 0).unwrap();
            assert_eq!(g.count, 16);
        }
    }
    assert_eq!(
        t.request_spis(h(1), 1, 0, 0).unwrap_err(),
        AllocError::TooManyBlocks
    );
    grace(&mut t);
    assert_eq!(t.stats().spi_blocks, 65536);
    assert_eq!(t.stats().spis, 1 << 20);
    let sh = t.shared();
    let mut rng = Rng(7);
    for _ in 0..200_000 {
        let v = 256 + rng.below(1 << 20) as u32;
        let (slot, addr) = sh.spi_owner(v).unwrap();
        // Blocks were granted in host order, 16 blocks of 16 each.
        let k = (v - 256) / 256;
        assert_eq!(u32::from(slot), k + 1);
        assert_eq!(addr, Ipv4Addr::from(0x0a00_0001u32 + k));
    }
    assert_eq!(sh.owner_of_spi(255), None);
    assert_eq!(sh.owner_of_spi(256 + (1 << 20)), None);
    // Free every other block of a few hosts: lookups follow.
    for k in 0..64u32 {
        t.invalidate_block(None, Kind::Spi, 256 + k * 32, Some(16))
            .unwrap();
    }
    grace(&mut t);
    for k in 0..64u32 {
        assert_eq!(sh.owner_of_spi(256 + k * 32 + 5), None);
        assert!(sh.owner_of_spi(256 + k * 32 + 21).is_some());
    }
    // Refill the holes with first fit.
    let a = Ipv4Addr::from(0x0a00_0001u32);
    let g = t.request_spis(a, 16, 0, 0).unwrap();
    assert_eq!(g.lowest, 256);
}

#[test]
fn memory() {
    let small = table_bytes(256);
    let large = table_bytes(4096);
    std::println!("table bytes: 256 hosts {small}, 4096 hosts {large}");
    assert!(small < 1 << 20, "{small}");
    assert!(large < 8 << 20, "{large}");
    assert_eq!(Layout { hosts: 256 }.bytes(), small);
    assert_eq!(core::mem::size_of::<SpiEntry>(), 12);
}
