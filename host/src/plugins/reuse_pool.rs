//! Idle instances of `instance = "reuse"` plugins, kept for the next call of the same
//! (plugin, account), under bounds that hold across all plugins and accounts: a count, a
//! memory total and an idle timeout, with the least recently used dropped first. Without
//! them every new account string would keep an instance per plugin forever, until the
//! engine's instance slots and the process's memory ran out.

use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// The bounds of a pool.
#[derive(Debug, Clone, Copy)]
pub struct PoolBounds {
    /// Idle instances per (owner, account).
    pub per_key: usize,
    /// Idle instances in all.
    pub max_instances: usize,
    /// Bytes the idle instances hold in all.
    pub max_bytes: usize,
    /// Idle time after which an instance is dropped.
    pub idle_timeout: Duration,
}

/// Idle values (instances) by owner (a plugin version's runner) and account.
pub struct IdlePool<T> {
    bounds: PoolBounds,
    state: Mutex<State<T>>,
}

type Key = (u64, String);

struct Entry<T> {
    key: Key,
    value: T,
    bytes: usize,
    since: Instant,
}

struct State<T> {
    /// Entries by sequence number: the first is the least recently returned.
    entries: BTreeMap<u64, Entry<T>>,
    /// Sequence numbers of each key's entries, most recent last.
    by_key: HashMap<Key, Vec<u64>>,
    next_seq: u64,
    bytes: usize,
    evicted: u64,
}

impl<T> State<T> {
    fn remove(&mut self, seq: u64) -> Option<Entry<T>> {
        let entry = self.entries.remove(&seq)?;
        self.bytes -= entry.bytes;
        if let Some(seqs) = self.by_key.get_mut(&entry.key) {
            seqs.retain(|s| *s != seq);
            if seqs.is_empty() {
                self.by_key.remove(&entry.key);
            }
        }
        Some(entry)
    }

    /// Removes the least recently returned entries while `over` says the pool is too full, and
    /// those idle since before `expired_before`.
    fn evict(&mut self, bounds: &PoolBounds, now: Instant, out: &mut Vec<T>) {
        while let Some((&seq, first)) = self.entries.first_key_value() {
            let expired = now.duration_since(first.since) >= bounds.idle_timeout;
            let over = self.entries.len() > bounds.max_instances || self.bytes > bounds.max_bytes;
            if !(expired || over) {
                break;
            }
            if let Some(e) = self.remove(seq) {
                self.evicted += 1;
                out.push(e.value);
            }
        }
    }
}

impl<T> IdlePool<T> {
    /// An empty pool with these bounds.
    pub fn new(bounds: PoolBounds) -> Self {
        IdlePool {
            bounds,
            state: Mutex::new(State {
                entries: BTreeMap::new(),
                by_key: HashMap::new(),
                next_seq: 0,
                bytes: 0,
                evicted: 0,
            }),
        }
    }

    /// The most recently returned idle value of (`owner`, `account`), if any is still fresh.
    pub fn take(&self, owner: u64, account: &str) -> Option<T> {
        let mut dropped = Vec::new();
        let found = {
            let mut s = self.state.lock();
            s.evict(&self.bounds, Instant::now(), &mut dropped);
            let key = (owner, account.to_string());
            let seq = s.by_key.get(&key).and_then(|seqs| seqs.last().copied());
            seq.and_then(|seq| s.remove(seq)).map(|e| e.value)
        };
        // Values (stores) are dropped outside the lock: freeing an instance takes a while.
        drop(dropped);
        found
    }

    /// Keeps `value` (holding `bytes`) for the next call of (`owner`, `account`), dropping the
    /// least recently used values beyond the bounds. A key already at `per_key` keeps its own.
    pub fn put(&self, owner: u64, account: &str, value: T, bytes: usize) {
        let mut dropped = Vec::new();
        {
            let mut s = self.state.lock();
            let key = (owner, account.to_string());
            if self.bounds.per_key == 0
                || s.by_key
                    .get(&key)
                    .is_some_and(|v| v.len() >= self.bounds.per_key)
            {
                dropped.push(value);
            } else {
                let seq = s.next_seq;
                s.next_seq += 1;
                s.bytes += bytes;
                s.by_key.entry(key.clone()).or_default().push(seq);
                s.entries.insert(
                    seq,
                    Entry {
                        key,
                        value,
                        bytes,
                        since: Instant::now(),
                    },
                );
            }
            s.evict(&self.bounds, Instant::now(), &mut dropped);
        }
        drop(dropped);
    }

    /// Drops every idle value of `owner` (a plugin version that was unloaded).
    pub fn remove_owner(&self, owner: u64) {
        let mut dropped = Vec::new();
        {
            let mut s = self.state.lock();
            let seqs: Vec<u64> = s
                .by_key
                .iter()
                .filter(|((o, _), _)| *o == owner)
                .flat_map(|(_, seqs)| seqs.iter().copied())
                .collect();
            for seq in seqs {
                if let Some(e) = s.remove(seq) {
                    dropped.push(e.value);
                }
            }
        }
        drop(dropped);
    }

    /// Drops the values idle longer than the timeout; returns how many are left.
    pub fn sweep(&self) -> usize {
        let mut dropped = Vec::new();
        let left = {
            let mut s = self.state.lock();
            s.evict(&self.bounds, Instant::now(), &mut dropped);
            s.entries.len()
        };
        drop(dropped);
        left
    }

    /// Idle values, the bytes they hold, and how many were evicted so far.
    pub fn usage(&self) -> (usize, usize, u64) {
        let s = self.state.lock();
        (s.entries.len(), s.bytes, s.evicted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(max_instances: usize, max_bytes: usize, idle_timeout: Duration) -> IdlePool<u32> {
        IdlePool::new(PoolBounds {
            per_key: 2,
            max_instances,
            max_bytes,
            idle_timeout,
        })
    }

    #[test]
    fn least_recently_used_go_first_across_owners_and_accounts() {
        let p = pool(3, usize::MAX, Duration::from_secs(60));
        p.put(1, "a", 10, 1);
        p.put(2, "a", 20, 1);
        p.put(1, "b", 30, 1);
        p.put(1, "c", 40, 1);
        assert_eq!(p.usage(), (3, 3, 1));
        assert_eq!(p.take(1, "a"), None, "the oldest was evicted");
        assert_eq!(p.take(2, "a"), Some(20));
        assert_eq!(p.take(1, "c"), Some(40));
        assert_eq!(p.take(1, "c"), None);
    }

    #[test]
    fn per_key_and_memory_bounds() {
        let p = pool(100, 10, Duration::from_secs(60));
        p.put(1, "a", 1, 4);
        p.put(1, "a", 2, 4);
        p.put(1, "a", 3, 4);
        assert_eq!(p.usage().0, 2, "per_key keeps two");
        p.put(1, "b", 4, 4);
        assert_eq!(p.usage(), (2, 8, 1), "over 10 bytes: the oldest went");
        assert_eq!(p.take(1, "a"), Some(2));
        p.remove_owner(1);
        assert_eq!(p.usage().0, 0);
    }

    #[test]
    fn idle_values_expire() {
        let p = pool(100, usize::MAX, Duration::from_millis(10));
        p.put(1, "a", 1, 1);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(p.sweep(), 0);
        assert_eq!(p.take(1, "a"), None);
    }
}
