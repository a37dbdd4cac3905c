//! Counted places for long-lived things (connections, live-reload streams):
//! a cap in all and a cap per client address, taken without waiting and
//! given back when the `Slot` is dropped, however its holder ends.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

#[derive(Debug)]
pub struct Slots {
    total: usize,
    per_address: usize,
    /// Addresses only the cap in all applies to.
    exempt: Vec<IpAddr>,
    held: Mutex<Held>,
}

#[derive(Debug, Default)]
struct Held {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// One place taken; dropping it gives the place back.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Slots>,
    address: IpAddr,
}

impl Slots {
    pub fn new(total: usize, per_address: usize) -> Arc<Slots> {
        Arc::new(Slots {
            total,
            per_address,
            exempt: Vec::new(),
            held: Mutex::new(Held::default()),
        })
    }

    /// The same caps, with `addresses` held to the cap in all only.
    pub fn exempting(self: Arc<Self>, addresses: Vec<IpAddr>) -> Arc<Slots> {
        Arc::new(Slots {
            total: self.total,
            per_address: self.per_address,
            exempt: addresses,
            held: Mutex::new(Held::default()),
        })
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        // Every update is one counter at a time: a panic leaves them whole.
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A place for `address`, unless every place, or every place one
    /// address may hold, is taken.
    pub fn take(self: &Arc<Self>, address: IpAddr) -> Option<Slot> {
        let mut held = self.held();
        let mine = held.by_address.get(&address).copied().unwrap_or(0);
        let over_own_cap = mine >= self.per_address && !self.exempt.contains(&address);
        if held.total >= self.total || over_own_cap {
            return None;
        }
        held.total += 1;
        held.by_address.insert(address, mine + 1);
        Some(Slot {
            slots: self.clone(),
            address,
        })
    }

    /// Places held now, in all.
    pub fn in_use(&self) -> usize {
        self.held().total
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut held = self.slots.held();
        held.total = held.total.saturating_sub(1);
        if let Some(mine) = held.by_address.get_mut(&self.address) {
            *mine -= 1;
            if *mine == 0 {
                held.by_address.remove(&self.address);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_capped_in_all_and_per_address_and_given_back_on_drop() {
        let slots = Slots::new(3, 2);
        let (a, b, c) = (
            IpAddr::from([10, 0, 0, 1]),
            IpAddr::from([10, 0, 0, 2]),
            IpAddr::from([10, 0, 0, 3]),
        );
        let a1 = slots.take(a).expect("a first place");
        let _a2 = slots.take(a).expect("a second place");
        assert!(slots.take(a).is_none(), "two per address");
        let _b1 = slots.take(b).expect("b's place");
        assert!(slots.take(c).is_none(), "three in all");
        drop(a1);
        assert_eq!(slots.in_use(), 2);
        assert!(slots.take(c).is_some(), "a place given back is free again");
    }
}
