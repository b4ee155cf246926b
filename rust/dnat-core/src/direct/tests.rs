// SPDX-License-Identifier: GPL-2.0

use super::*;

type D = Direct<257, 512>;

const A: Lladdr = [0x02, 0, 0, 0, 0, 1];
const B: Lladdr = [0x02, 0, 0, 0, 0, 2];

#[test]
fn default_is_ipip() {
    let d = D::new();
    assert_eq!(d.get(1), Binding::Ipip);
    assert_eq!(d.get(300), Binding::Ipip);
    assert_eq!(d.slot_of(A), None);
}

#[test]
fn bound_slot_is_found_by_its_address_only() {
    let d = D::new();
    d.set(5, Binding::Bound(A)).unwrap();
    assert_eq!(d.get(5), Binding::Bound(A));
    assert_eq!(d.slot_of(A), Some(5));
    assert_eq!(d.slot_of(B), None);
    assert!(d.get(5).is_direct());
}

#[test]
fn learn_is_direct_but_not_indexed() {
    let d = D::new();
    d.set(3, Binding::Learn).unwrap();
    assert!(d.get(3).is_direct());
    assert_eq!(d.get(3).lladdr(), None);
    assert_eq!(d.slot_of([0; 6]), None);
}

#[test]
fn rebinding_and_unbinding_leave_no_stale_match() {
    let d = D::new();
    d.set(5, Binding::Bound(A)).unwrap();
    d.set(5, Binding::Bound(B)).unwrap();
    assert_eq!(d.slot_of(A), None);
    assert_eq!(d.slot_of(B), Some(5));
    d.set(5, Binding::Ipip).unwrap();
    assert_eq!(d.slot_of(B), None);
    // The stale entries are reused: many rebinds never fill the index.
    for i in 0..10_000u32 {
        let m = [0x02, 0, (i >> 16) as u8, (i >> 8) as u8, i as u8, 7];
        d.set(9, Binding::Bound(m)).unwrap();
        assert_eq!(d.slot_of(m), Some(9));
    }
}

#[test]
fn refusals_change_nothing() {
    let d = D::new();
    d.set(5, Binding::Bound(A)).unwrap();
    assert_eq!(d.set(6, Binding::Bound(A)), Err(BindError::InUse));
    assert_eq!(d.get(6), Binding::Ipip);
    assert_eq!(
        d.set(6, Binding::Bound([0x01, 0, 0x5e, 0, 0, 1])),
        Err(BindError::Lladdr)
    );
    assert_eq!(d.set(6, Binding::Bound([0xff; 6])), Err(BindError::Lladdr));
    assert_eq!(d.set(6, Binding::Bound([0; 6])), Err(BindError::Lladdr));
    assert_eq!(d.set(0, Binding::Bound(B)), Err(BindError::Slot));
    assert_eq!(d.set(257, Binding::Bound(B)), Err(BindError::Slot));
    assert_eq!(d.slot_of(B), None);
    assert_eq!(d.slot_of(A), Some(5));
}

#[test]
fn every_slot_can_be_bound_at_once() {
    let d = D::new();
    for s in 1..257u16 {
        d.set(
            s,
            Binding::Bound([0x02, 0x42, 0, 0, (s >> 8) as u8, s as u8]),
        )
        .unwrap();
    }
    for s in 1..257u16 {
        assert_eq!(
            d.slot_of([0x02, 0x42, 0, 0, (s >> 8) as u8, s as u8]),
            Some(s)
        );
    }
    d.clear();
    assert_eq!(d.slot_of([0x02, 0x42, 0, 0, 0, 1]), None);
    assert_eq!(d.get(1), Binding::Ipip);
}

#[test]
fn a_full_probe_window_is_refused() {
    // A 16-entry index is one probe window: the 17th distinct address
    // cannot be placed.
    let d = Direct::<40, 16>::new();
    let mut placed = 0;
    for s in 1..40u16 {
        match d.set(s, Binding::Bound([0x02, 1, 2, 3, 4, s as u8])) {
            Ok(()) => placed += 1,
            Err(e) => assert_eq!(e, BindError::Full),
        }
    }
    assert_eq!(placed, 16);
}

#[test]
fn lladdr_text() {
    assert_eq!(parse_lladdr("02:00:00:00:00:01"), Some(A));
    assert_eq!(parse_lladdr("2:0:0:0:0:1"), Some(A));
    for bad in [
        "",
        "02:00:00:00:00",
        "02:00:00:00:00:01:02",
        "02::00:00:00:01",
        "02:00:00:00:00:100",
        "zz:00:00:00:00:01",
    ] {
        assert_eq!(parse_lladdr(bad), None, "{bad}");
    }
}

#[test]
fn rebinding_within_a_window_reuses_the_slots_entry() {
    // A 16-entry index is one window: rebinding one slot to ever new
    // addresses never takes a second entry, so 15 other hosts still fit.
    let d = Direct::<40, 16>::new();
    for i in 0..100u8 {
        d.set(1, Binding::Bound([0x02, 9, 9, 9, 9, i])).unwrap();
    }
    for s in 2..17u16 {
        d.set(s, Binding::Bound([0x02, 1, 2, 3, 4, s as u8]))
            .unwrap();
    }
    assert_eq!(d.slot_of([0x02, 9, 9, 9, 9, 99]), Some(1));
    assert_eq!(d.slot_of([0x02, 1, 2, 3, 4, 16]), Some(16));
}
