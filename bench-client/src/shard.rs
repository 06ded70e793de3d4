//! A shard of a distributed run: `--shard I/N` (or `--shards N` with I
//! from `JOB_COMPLETION_INDEX`, as a Kubernetes Indexed Job sets it) and the
//! run id that ties the shards together.
//!
//! The whole run's connections are numbered `0..C` as on one machine, and
//! shard I owns a contiguous block of them ([`share`]). Everything that is
//! a function of a connection's run-wide id (the open loop's staggered due
//! times, Poisson and stage arrivals, the closed-loop stages' intervals,
//! target picks) is therefore the one-machine schedule, cut into N parts
//! that add up to it exactly. `-n` is split the same way over the shards.

use std::ops::Range;

/// The environment variable a Kubernetes Indexed Job sets to the pod's index.
pub const INDEX_ENV: &str = "JOB_COMPLETION_INDEX";

/// The environment variable `--run-id` falls back to.
pub const RUN_ID_ENV: &str = "BENCH_RUN_ID";

/// Which part of which run this process makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    /// 0-based, below `count`.
    pub index: u32,
    pub count: u32,
}

/// Shard `index`'s part of `total` things split over `count` shards: the
/// first `total % count` shards take one more, so that the parts are
/// contiguous, differ by at most one and add up to `total` exactly
/// (9001 over 3: 3001, 3000, 3000).
pub fn share(total: u64, index: u32, count: u32) -> Range<u64> {
    let (index, count) = (u64::from(index), u64::from(count));
    let (base, extra) = (total / count, total % count);
    let start = index * base + index.min(extra);
    start..start + base + u64::from(index < extra)
}

impl Shard {
    /// Parses `--shard I/N`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || {
            format!(
                "invalid value '{text}' for --shard: expected I/N with 0 <= I < N, \
                 such as 0/3 (I is 0-based, as Kubernetes' JOB_COMPLETION_INDEX)"
            )
        };
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let number = |s: &str| {
            let s = s.trim();
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<u32>().ok())
                .flatten()
        };
        match (number(i), number(n)) {
            (Some(index), Some(count)) if index < count => Ok(Shard { index, count }),
            _ => Err(bad()),
        }
    }

    /// `--shards N`, with the index read from [`INDEX_ENV`] (`index`: its
    /// value, `None` when unset).
    pub fn from_count(count: &str, index: Option<&str>) -> Result<Shard, String> {
        let n = count.trim();
        let count = match n.parse::<u32>() {
            Ok(c) if c > 0 && n.bytes().all(|b| b.is_ascii_digit()) => c,
            _ => {
                return Err(format!(
                    "invalid value '{count}' for --shards: expected a whole number of shards \
                     of at least 1"
                ))
            }
        };
        let Some(index) = index else {
            return Err(format!(
                "--shards {count} reads the shard's index from {INDEX_ENV}, which is not set \
                 (a Kubernetes Indexed Job sets it; elsewhere give --shard I/{count})"
            ));
        };
        Shard::parse(&format!("{}/{count}", index.trim())).map_err(|_| {
            format!(
                "invalid value '{index}' in {INDEX_ENV} for --shards {count}: expected a \
                 0-based index below {count}"
            )
        })
    }

    /// This shard's run-wide connection ids, of `total`.
    pub fn connections(&self, total: u32) -> Range<u32> {
        let r = share(u64::from(total), self.index, self.count);
        r.start as u32..r.end as u32
    }

    /// This shard's count of `-n`'s `total` requests.
    pub fn requests(&self, total: u64) -> u64 {
        let r = share(total, self.index, self.count);
        r.end - r.start
    }

    /// This shard's count of `-n`'s `total` requests in a uniform open
    /// loop over `connections`: on one machine the first `total` due slots
    /// (`c + k·C`) are sent, so connection `c` sends `⌊total/C⌋`, plus one
    /// if `c < total mod C`; a shard takes exactly its connections' counts,
    /// so that together the shards send the one-machine schedule.
    pub fn requests_by_connection(&self, total: u64, connections: u32) -> u64 {
        let own = self.connections(connections);
        let c = u64::from(connections.max(1));
        let (each, extra) = (total / c, total % c);
        let (a, b) = (u64::from(own.start), u64::from(own.end));
        (b - a) * each + extra.min(b).saturating_sub(a)
    }
}

/// The seed of a sharded run given no `--seed`: one every shard derives
/// alike from the run id they share (FNV-1a, then SplitMix64).
pub fn seed_of(run_id: &str) -> u64 {
    use rand::{RngCore as _, SeedableRng as _};
    let fnv = run_id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    rand_xoshiro::SplitMix64::seed_from_u64(fnv).next_u64()
}

/// `--run-id` or its environment variable, checked: what labels and file
/// names can carry (letters, digits, `-`, `_`, `.`, at most 128).
pub fn check_run_id(id: &str, from: &str) -> Result<String, String> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(id.to_string())
    } else {
        Err(format!(
            "invalid value '{id}' for {from}: expected 1 to 128 letters, digits, '-', '_' or '.' \
             (e.g. a Job's UID)"
        ))
    }
}

/// A run id nobody gave: 16 hex digits, different for every run.
pub fn random_run_id() -> String {
    use rand::{RngCore as _, SeedableRng as _};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    // Two ids drawn in the same nanosecond by one process still differ.
    static DRAWN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = DRAWN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mixed = nanos ^ (u64::from(std::process::id()) << 32) ^ n.rotate_right(7);
    format!(
        "{:016x}",
        rand_xoshiro::SplitMix64::seed_from_u64(mixed).next_u64()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parts are contiguous, cover `0..total` exactly once, and differ
    /// by at most one, for every split of small totals.
    #[test]
    fn shares_add_up_exactly() {
        for total in 0..200u64 {
            for count in 1..=12u32 {
                let parts: Vec<Range<u64>> = (0..count).map(|i| share(total, i, count)).collect();
                assert_eq!(parts[0].start, 0);
                assert_eq!(parts.last().unwrap().end, total, "{total} over {count}");
                for w in parts.windows(2) {
                    assert_eq!(w[0].end, w[1].start, "{total} over {count}");
                }
                let lens: Vec<u64> = parts.iter().map(|r| r.end - r.start).collect();
                let (lo, hi) = (lens.iter().min().unwrap(), lens.iter().max().unwrap());
                assert!(hi - lo <= 1, "{total} over {count}: {lens:?}");
                assert!(lens.windows(2).all(|w| w[0] >= w[1]), "larger parts first");
            }
        }
        let n: Vec<u64> = (0..3)
            .map(|i| Shard { index: i, count: 3 }.requests(9001))
            .collect();
        assert_eq!(n, [3001, 3000, 3000]);
        assert_eq!(Shard { index: 4, count: 5 }.connections(12), 10..12);
        assert_eq!(share(u64::MAX, 1, 2).end, u64::MAX);
    }

    #[test]
    fn shard_flags_and_the_index_variable() {
        assert_eq!(Shard::parse("0/3"), Ok(Shard { index: 0, count: 3 }));
        assert_eq!(Shard::parse(" 2 / 3 "), Ok(Shard { index: 2, count: 3 }));
        for bad in [
            "3/3", "1", "-1/3", "a/3", "1/0", "1/", "/3", "1/3/4", "+1/3",
        ] {
            let e = Shard::parse(bad).unwrap_err();
            assert!(
                e.starts_with(&format!("invalid value '{bad}' for --shard: expected I/N")),
                "{e}"
            );
        }
        assert_eq!(
            Shard::from_count("4", Some("3")),
            Ok(Shard { index: 3, count: 4 })
        );
        let e = Shard::from_count("4", None).unwrap_err();
        assert!(e.contains("JOB_COMPLETION_INDEX, which is not set"), "{e}");
        let e = Shard::from_count("4", Some("4")).unwrap_err();
        assert!(
            e.starts_with("invalid value '4' in JOB_COMPLETION_INDEX"),
            "{e}"
        );
        assert!(Shard::from_count("0", Some("0")).is_err());
    }

    #[test]
    fn run_ids() {
        assert_eq!(check_run_id("a1-B_2.c", "--run-id").unwrap(), "a1-B_2.c");
        for bad in ["", "a b", "x\"y", &"x".repeat(129)] {
            assert!(check_run_id(bad, "--run-id").is_err(), "{bad}");
        }
        let (a, b) = (random_run_id(), random_run_id());
        assert_eq!(a.len(), 16);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    /// In a uniform open loop the shards' counts are their connections'
    /// one-machine counts, and add up to the whole.
    #[test]
    fn open_loop_counts_follow_the_connections() {
        for (total, conns, count) in [(15u64, 10u32, 2u32), (9001, 6, 3), (7, 10, 3), (100, 7, 7)] {
            let per_conn =
                |c: u64| total / u64::from(conns) + u64::from(c < total % u64::from(conns));
            let mut sum = 0;
            for index in 0..count {
                let s = Shard { index, count };
                let own = s.connections(conns);
                let expected: u64 = (u64::from(own.start)..u64::from(own.end))
                    .map(per_conn)
                    .sum();
                assert_eq!(
                    s.requests_by_connection(total, conns),
                    expected,
                    "{total} {conns} {index}/{count}"
                );
                sum += expected;
            }
            assert_eq!(sum, total);
        }
        // -c 10 -n 15 over 2 shards: connections 0-4 send 2 each, 5-9 one.
        let halves: Vec<u64> = (0..2)
            .map(|i| Shard { index: i, count: 2 }.requests_by_connection(15, 10))
            .collect();
        assert_eq!(halves, [10, 5]);
    }
}
