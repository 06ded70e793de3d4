//! vegeta's HTTP targets file (`--targets FILE`), and which target each
//! request of a connection uses (`--targets-order random|round-robin`).
//!
//! The grammar is vegeta's, so that a file written for vegeta runs here
//! unchanged:
//!
//! ```text
//! # Targets are separated by blank lines; '#' starts a comment line.
//! GET http://127.0.0.1:8080/items?id=1
//! X-Account-ID: 8675309
//! # weight: 3
//!
//! POST http://10.0.0.2:9090/things
//! Content-Type: application/json
//! @bodies/thing.json
//! ```
//!
//! - `METHOD URL` opens a target (the method is sent as written); a new
//!   `METHOD URL` line also ends the previous target, as in vegeta;
//! - `Name: value` lines that follow are its headers;
//! - `@PATH` is its body, read from `PATH` relative to the targets file's
//!   folder (vegeta reads it relative to where it runs; a file is more
//!   useful when its bodies travel with it), and ends its header list;
//! - `# weight: N` (N from 1 to 1,000,000) inside a target's block, after
//!   its `METHOD URL` line, is its weight (default 1). **Why a comment:**
//!   vegeta skips every line that starts with `#`, so a weighted file is
//!   still a valid vegeta file (vegeta just sends its targets equally);
//!   any other spelling (`@weight 3`, a third word on the request line)
//!   would make vegeta read a body file or a URL that is not there. A
//!   plain vegeta file never means anything by a comment, and one that
//!   says `# weight:` and then something other than a number is refused
//!   rather than silently ignored.
//!
//! Every error names the file and line, says what is wrong and what is
//! accepted: `targets.txt:7: 'X-A value' is not a header or a request
//! line; expected Name: value, @BODY-FILE, a blank line, or METHOD URL`.
//!
//! Parsing is sans IO ([`parse`] reads a `&str`); [`load`] is the one
//! function that reads the file, and bodies are left to the caller to read.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution as _;
use rand::SeedableRng as _;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::arrivals::connection_seed;
use crate::config::HttpUrl;

/// The largest weight: large enough for any ratio people mean, small
/// enough that the sum of a million targets' weights fits in a u64 with
/// room to spare.
pub const MAX_WEIGHT: u32 = 1_000_000;

/// What a request line looks like, quoted in errors.
const REQUEST_FORM: &str = "METHOD URL, such as GET http://127.0.0.1:8080/path";

/// One target of the file. (Not `Target`: that is a stage's rate or
/// connection count, [`super::stage::Target`].)
#[derive(Debug, Clone, PartialEq)]
pub struct RequestTarget {
    /// As written: methods are case-sensitive.
    pub method: String,
    pub url: HttpUrl,
    /// `(name, value)` in file order, the value trimmed.
    pub headers: Vec<(String, String)>,
    /// The body file, resolved against the targets file's folder.
    pub body: Option<PathBuf>,
    pub weight: u32,
    /// The line of its `METHOD URL`, for messages about it.
    pub line: usize,
}

/// Why a targets file was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TargetsError {
    #[error("{}:{line}: {what}", .file.display())]
    Line {
        file: PathBuf,
        line: usize,
        what: String,
    },
    #[error("{}: no targets; expected one or more blocks of {REQUEST_FORM}, then optional Name: value headers and an optional @BODY-FILE line", .file.display())]
    Empty { file: PathBuf },
    #[error("{}: cannot read the targets file: {reason}", .file.display())]
    Read { file: PathBuf, reason: String },
}

/// A header name or a method: RFC 9110's `token`.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// `# weight: N` (any case, any spaces around `weight`): `Some(the text
/// after the colon)`; `None` for any other comment.
fn weight_directive(comment: &str) -> Option<&str> {
    let rest = comment.strip_prefix('#')?.trim_start();
    let head = rest.get(..7)?;
    head.eq_ignore_ascii_case("weight:")
        .then(|| rest[7..].trim())
}

/// Reads and parses a targets file.
pub fn load(file: &Path) -> Result<Vec<RequestTarget>, TargetsError> {
    let text = std::fs::read_to_string(file).map_err(|e| TargetsError::Read {
        file: file.to_path_buf(),
        reason: e.to_string(),
    })?;
    parse(&text, file)
}

/// Parses a targets file's text; `file` is its path, named in errors, and
/// its folder is where relative `@body` paths start.
pub fn parse(text: &str, file: &Path) -> Result<Vec<RequestTarget>, TargetsError> {
    let folder = file.parent().unwrap_or(Path::new(""));
    let mut targets = Vec::new();
    // The target being read, and whether it has had its weight line.
    let mut current: Option<(RequestTarget, bool)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let err = |what: String| TargetsError::Line {
            file: file.to_path_buf(),
            line,
            what,
        };
        let l = raw.trim();
        if l.is_empty() {
            targets.extend(current.take().map(|c| c.0));
            continue;
        }
        if l.starts_with('#') {
            let Some(value) = weight_directive(l) else {
                continue;
            };
            let Some((target, weighted)) = current.as_mut() else {
                return Err(err(format!(
                    "'{l}' is outside any target; a '# weight: N' line goes inside its \
                     target's block, after the {REQUEST_FORM} line"
                )));
            };
            if *weighted {
                return Err(err(format!(
                    "a second weight for the target of line {}; give each target one '# weight: N' line",
                    target.line
                )));
            }
            target.weight = match value.parse::<u32>() {
                Ok(w)
                    if (1..=MAX_WEIGHT).contains(&w)
                        && value.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    w
                }
                _ => {
                    return Err(err(format!(
                        "the weight '{value}' is not a whole number from 1 to {MAX_WEIGHT}; \
                         expected '# weight: N', such as # weight: 3 (to leave a target out, \
                         comment out its lines)"
                    )))
                }
            };
            *weighted = true;
            continue;
        }
        if let Some(path) = l.strip_prefix('@') {
            let Some((target, _)) = current.as_mut() else {
                return Err(err(format!(
                    "the body line '{l}' is outside any target; expected it after a \
                     {REQUEST_FORM} line and its headers"
                )));
            };
            if target.body.is_some() {
                return Err(err(format!(
                    "a second body for the target of line {}; give each target at most one @BODY-FILE line",
                    target.line
                )));
            }
            let path = path.trim();
            if path.is_empty() {
                return Err(err(
                    "the body line has no path; expected @BODY-FILE, such as @bodies/post.json"
                        .into(),
                ));
            }
            target.body = Some(folder.join(path));
            continue;
        }
        if let Some((name, value)) = l.split_once(':').filter(|(name, _)| is_token(name)) {
            let Some((target, _)) = current.as_mut() else {
                return Err(err(format!(
                    "the header '{l}' is outside any target; expected a {REQUEST_FORM} line first"
                )));
            };
            if target.body.is_some() {
                return Err(err(format!(
                    "the header '{l}' comes after the target's @body line; put headers \
                     between the METHOD URL line and the @body line"
                )));
            }
            target
                .headers
                .push((name.to_string(), value.trim().to_string()));
            continue;
        }
        // Anything else must open a new target.
        let mut words = l.split_whitespace();
        let (method, url, extra) = (words.next(), words.next(), words.next());
        let what_is_accepted = if current.is_some() {
            "expected Name: value, @BODY-FILE, '# weight: N', a blank line, or"
        } else {
            "expected"
        };
        // A second word that is no URL at all (`X-A value`, a header
        // without its colon) is a bad line, not a bad URL.
        let looks_like_url = |u: &str| u.contains("://") || u.starts_with('/');
        let (Some(method), Some(url), None) = (method, url.filter(|u| looks_like_url(u)), extra)
        else {
            return Err(err(format!(
                "'{l}' is not a header or a request line; {what_is_accepted} {REQUEST_FORM}"
            )));
        };
        if !is_token(method) {
            return Err(err(format!(
                "the method '{method}' is not an HTTP token (letters, digits and !#$%&'*+-.^_`|~); \
                 expected {REQUEST_FORM}"
            )));
        }
        let url = HttpUrl::parse(url).map_err(|e| err(format!("{e}; expected {REQUEST_FORM}")))?;
        targets.extend(current.take().map(|c| c.0));
        current = Some((
            RequestTarget {
                method: method.to_string(),
                url,
                headers: Vec::new(),
                body: None,
                weight: 1,
                line,
            },
            false,
        ));
    }
    targets.extend(current.take().map(|c| c.0));
    if targets.is_empty() {
        return Err(TargetsError::Empty {
            file: file.to_path_buf(),
        });
    }
    Ok(targets)
}

/// How a connection picks the target of each request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetOrder {
    /// At random, in proportion to the weights, from this seed.
    Random { seed: u64 },
    /// In file order, target `t` `weight` times in a row; each connection
    /// starts at its own place in that cycle, `i·W/C` of the way round (`W`
    /// the sum of the weights, `C` the connections), so that together they
    /// cover the cycle evenly from the first request on.
    RoundRobin,
}

/// The choice of targets for all of a run's connections, built once.
#[derive(Debug, Clone)]
pub struct TargetPlan {
    order: TargetOrder,
    weights: Arc<[u32]>,
    /// Random: one table, shared by every connection's picker.
    index: Option<Arc<WeightedIndex<u64>>>,
    connections: u32,
    shard: u32,
}

/// A second stream of each connection's seed, so that target picks and
/// Poisson arrivals from one `--seed` are independent.
const TARGET_STREAM: u64 = 0x7461_7267_6574_7321; // "targets!"

impl TargetPlan {
    /// `weights` are the targets' weights in file order (each 1 to
    /// [`MAX_WEIGHT`], at least one target), `connections` at least 1, and
    /// `shard` as in [`super::arrivals::shard_seed`].
    pub fn new(weights: &[u32], order: TargetOrder, connections: u32, shard: u32) -> TargetPlan {
        assert!(!weights.is_empty() && connections > 0);
        assert!(weights.iter().all(|w| (1..=MAX_WEIGHT).contains(w)));
        let index = match order {
            TargetOrder::Random { .. } => Some(Arc::new(
                WeightedIndex::new(weights.iter().map(|&w| u64::from(w)))
                    .expect("weights checked above"),
            )),
            TargetOrder::RoundRobin => None,
        };
        TargetPlan {
            order,
            weights: weights.into(),
            index,
            connections,
            shard,
        }
    }

    /// The state connection `conn` keeps.
    pub fn picker(&self, conn: u32) -> TargetPicker {
        assert!(conn < self.connections);
        match self.order {
            TargetOrder::Random { seed } => TargetPicker::Random {
                index: Arc::clone(self.index.as_ref().expect("built for random")),
                rng: Xoshiro256PlusPlus::seed_from_u64(
                    connection_seed(seed, self.shard, conn) ^ TARGET_STREAM,
                ),
            },
            TargetOrder::RoundRobin => {
                let total: u64 = self.weights.iter().map(|&w| u64::from(w)).sum();
                let mut skip = u64::from(conn) * total / u64::from(self.connections);
                let mut target = 0;
                while skip >= u64::from(self.weights[target]) {
                    skip -= u64::from(self.weights[target]);
                    target += 1;
                }
                TargetPicker::RoundRobin {
                    weights: Arc::clone(&self.weights),
                    target,
                    left: self.weights[target] - skip as u32,
                }
            }
        }
    }
}

/// Which target each request of one connection uses: no allocation per
/// pick.
#[derive(Debug, Clone)]
pub enum TargetPicker {
    Random {
        index: Arc<WeightedIndex<u64>>,
        rng: Xoshiro256PlusPlus,
    },
    RoundRobin {
        weights: Arc<[u32]>,
        /// The current target, and how many more requests it gets in this
        /// turn (at least 1).
        target: usize,
        left: u32,
    },
}

impl TargetPicker {
    /// The index (into the file's targets) of the next request's target.
    #[inline]
    pub fn next_target(&mut self) -> usize {
        match self {
            TargetPicker::Random { index, rng } => index.sample(rng),
            TargetPicker::RoundRobin {
                weights,
                target,
                left,
            } => {
                let pick = *target;
                *left -= 1;
                if *left == 0 {
                    *target = (*target + 1) % weights.len();
                    *left = weights[*target];
                }
                pick
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> &'static Path {
        Path::new("conf/targets.txt")
    }

    fn ok(text: &str) -> Vec<RequestTarget> {
        parse(text, file()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn err(text: &str) -> String {
        parse(text, file()).unwrap_err().to_string()
    }

    fn url(s: &str) -> HttpUrl {
        HttpUrl::parse(s).unwrap()
    }

    #[test]
    fn a_plain_vegeta_file() {
        let t = ok("GET http://goku:9090/path/to/dragon?item=ball\n\
                    X-Account-ID: 8675309\n\
                    \n\
                    DELETE http://goku:9090/path/to/remove\n\
                    Confirmation-Token: 90215\n\
                    Authorization: Token DEADBEEF\n\
                    \n\
                    POST http://goku:9090/things\n\
                    @/path/to/newthing.json\n");
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].method, "GET");
        assert_eq!(t[0].url, url("http://goku:9090/path/to/dragon?item=ball"));
        assert_eq!(t[0].headers, [("X-Account-ID".into(), "8675309".into())]);
        assert_eq!((t[0].body.as_ref(), t[0].weight, t[0].line), (None, 1, 1));
        assert_eq!(t[1].headers.len(), 2);
        assert_eq!(
            t[1].headers[1],
            ("Authorization".into(), "Token DEADBEEF".into())
        );
        assert_eq!(t[1].line, 4);
        // An absolute body path stays as it is.
        assert_eq!(t[2].body, Some(PathBuf::from("/path/to/newthing.json")));
        assert_eq!(t[2].line, 8);
    }

    #[test]
    fn comments_blank_lines_and_spaces_are_skipped() {
        let t = ok("# a file of two targets\n\
                    \n\n   \t\n\
                    # first\n\
                    GET http://a/1\n\
                    # between headers\n\
                    X-A: 1\n\
                    \n\
                    \tGET   http://a/2  \r\n\
                    \n# trailing\n");
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].headers, [("X-A".into(), "1".into())]);
        assert_eq!((t[1].url.path.as_str(), t[1].line), ("/2", 10));
    }

    #[test]
    fn a_request_line_ends_the_previous_target_as_in_vegeta() {
        let t = ok("GET http://a/1\nX-A: 1\nPOST http://a/2\n@b.json\nGET http://a/3\n");
        assert_eq!(t.len(), 3);
        assert_eq!(t[1].body, Some(PathBuf::from("conf/b.json")));
        assert!(t[2].headers.is_empty());
    }

    #[test]
    fn bodies_are_relative_to_the_file() {
        let t = ok("POST http://a/\n@ bodies/x.json \n");
        assert_eq!(t[0].body, Some(PathBuf::from("conf/bodies/x.json")));
        let t = parse("POST http://a/\n@x\n", Path::new("targets.txt")).unwrap();
        assert_eq!(t[0].body, Some(PathBuf::from("x")));
    }

    #[test]
    fn weights_are_comments_vegeta_skips() {
        let t = ok("GET http://a/1\n# weight: 3\nX-A: 1\n\n\
                    GET http://a/2\n\n\
                    POST http://a/3\n@b\n#WEIGHT:7\n\n\
                    GET http://a/4\n#   Weight:   1000000\n");
        let w: Vec<u32> = t.iter().map(|t| t.weight).collect();
        assert_eq!(w, [3, 1, 7, 1_000_000]);
        assert_eq!(t[0].headers.len(), 1);
        // Comments that merely mention weights are comments.
        let t = ok("GET http://a/\n# weighted by hand\n# the weight: see below\n");
        assert_eq!(t[0].weight, 1);
    }

    #[test]
    fn several_hosts_and_methods_as_written() {
        let t = ok("GET http://10.0.0.1:8080/\n\npatch http://[::1]:9/x\n\nPURGE http://cache.local/a?b=c\n");
        let hosts: Vec<(&str, u16)> = t
            .iter()
            .map(|t| (t.url.host.as_str(), t.url.port))
            .collect();
        assert_eq!(hosts, [("10.0.0.1", 8080), ("::1", 9), ("cache.local", 80)]);
        assert_eq!(t[1].method, "patch");
        assert_eq!(t[2].method, "PURGE");
    }

    #[test]
    fn errors_name_the_file_the_line_and_what_is_accepted() {
        let table: &[(&str, &str)] = &[
            ("", "conf/targets.txt: no targets; expected one or more blocks of METHOD URL, such as GET http://127.0.0.1:8080/path, then optional Name: value headers and an optional @BODY-FILE line"),
            ("# only comments\n\n", "conf/targets.txt: no targets; expected one or more blocks of METHOD URL, such as GET http://127.0.0.1:8080/path, then optional Name: value headers and an optional @BODY-FILE line"),
            ("GET\n", "conf/targets.txt:1: 'GET' is not a header or a request line; expected METHOD URL, such as GET http://127.0.0.1:8080/path"),
            ("GET http://a/ extra\n", "conf/targets.txt:1: 'GET http://a/ extra' is not a header or a request line; expected METHOD URL, such as GET http://127.0.0.1:8080/path"),
            ("GET http://a/\nX-A value\n", "conf/targets.txt:2: 'X-A value' is not a header or a request line; expected Name: value, @BODY-FILE, '# weight: N', a blank line, or METHOD URL, such as GET http://127.0.0.1:8080/path"),
            ("GET http://a/\n\nX-A: 1\n", "conf/targets.txt:3: the header 'X-A: 1' is outside any target; expected a METHOD URL, such as GET http://127.0.0.1:8080/path line first"),
            ("X-A: 1\nGET http://a/\n", "conf/targets.txt:1: the header 'X-A: 1' is outside any target; expected a METHOD URL, such as GET http://127.0.0.1:8080/path line first"),
            ("G(T http://a/\n", "conf/targets.txt:1: the method 'G(T' is not an HTTP token (letters, digits and !#$%&'*+-.^_`|~); expected METHOD URL, such as GET http://127.0.0.1:8080/path"),
            ("GET http://a/\n@\n", "conf/targets.txt:2: the body line has no path; expected @BODY-FILE, such as @bodies/post.json"),
            ("GET http://a/\n@a\n@b\n", "conf/targets.txt:3: a second body for the target of line 1; give each target at most one @BODY-FILE line"),
            ("@a\nGET http://a/\n", "conf/targets.txt:1: the body line '@a' is outside any target; expected it after a METHOD URL, such as GET http://127.0.0.1:8080/path line and its headers"),
            ("GET http://a/\n@a\nX-A: 1\n", "conf/targets.txt:3: the header 'X-A: 1' comes after the target's @body line; put headers between the METHOD URL line and the @body line"),
            ("# weight: 2\nGET http://a/\n", "conf/targets.txt:1: '# weight: 2' is outside any target; a '# weight: N' line goes inside its target's block, after the METHOD URL, such as GET http://127.0.0.1:8080/path line"),
            ("GET http://a/\n# weight: 2\n# weight: 3\n", "conf/targets.txt:3: a second weight for the target of line 1; give each target one '# weight: N' line"),
            ("GET http://a/\n# weight: 0\n", "conf/targets.txt:2: the weight '0' is not a whole number from 1 to 1000000; expected '# weight: N', such as # weight: 3 (to leave a target out, comment out its lines)"),
            ("GET http://a/\n# weight: 1.5\n", "conf/targets.txt:2: the weight '1.5' is not a whole number from 1 to 1000000; expected '# weight: N', such as # weight: 3 (to leave a target out, comment out its lines)"),
            ("GET http://a/\n# weight: +2\n", "conf/targets.txt:2: the weight '+2' is not a whole number from 1 to 1000000; expected '# weight: N', such as # weight: 3 (to leave a target out, comment out its lines)"),
            ("GET http://a/\n# weight:\n", "conf/targets.txt:2: the weight '' is not a whole number from 1 to 1000000; expected '# weight: N', such as # weight: 3 (to leave a target out, comment out its lines)"),
            ("GET http://a/\n# weight: 1000001\n", "conf/targets.txt:2: the weight '1000001' is not a whole number from 1 to 1000000; expected '# weight: N', such as # weight: 3 (to leave a target out, comment out its lines)"),
        ];
        for &(text, want) in table {
            assert_eq!(err(text), want, "{text:?}");
        }
        // What is wrong with a URL is HttpUrl's to say (and changes with
        // the schemes it accepts); the file, line and form are ours.
        for (text, url) in [
            ("GET ftp://a/\n", "ftp://a/"),
            ("GET /relative\n", "/relative"),
        ] {
            let e = err(text);
            assert!(
                e.starts_with(&format!("conf/targets.txt:1: invalid URL '{url}': "))
                    && e.ends_with("; expected METHOD URL, such as GET http://127.0.0.1:8080/path"),
                "{e}"
            );
        }
    }

    #[test]
    fn load_names_an_unreadable_file() {
        let e = load(Path::new("/nonexistent/targets.txt")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("/nonexistent/targets.txt: cannot read the targets file: "),
            "{e}"
        );
    }

    #[test]
    fn random_picks_follow_the_weights() {
        let weights = [1, 2, 7, 10];
        let total: u32 = weights.iter().sum();
        let plan = TargetPlan::new(&weights, TargetOrder::Random { seed: 9 }, 4, 0);
        let n = 100_000;
        let mut counts = [0u32; 4];
        let mut picker = plan.picker(1);
        for _ in 0..n {
            counts[picker.next_target()] += 1;
        }
        for (t, &w) in weights.iter().enumerate() {
            let p = f64::from(w) / f64::from(total);
            let mean = n as f64 * p;
            let sd = (n as f64 * p * (1.0 - p)).sqrt();
            let got = f64::from(counts[t]);
            assert!(
                (got - mean).abs() <= 4.0 * sd,
                "target {t}: {got} vs {mean} ± {sd}"
            );
        }
    }

    #[test]
    fn random_picks_repeat_per_seed_and_differ_per_connection() {
        let plan = TargetPlan::new(&[1, 1, 1], TargetOrder::Random { seed: 5 }, 3, 0);
        let picks = |p: &TargetPlan, conn| -> Vec<usize> {
            let mut picker = p.picker(conn);
            (0..64).map(|_| picker.next_target()).collect()
        };
        assert_eq!(picks(&plan, 0), picks(&plan, 0));
        assert_ne!(picks(&plan, 0), picks(&plan, 1));
        let other = TargetPlan::new(&[1, 1, 1], TargetOrder::Random { seed: 5 }, 3, 1);
        assert_ne!(picks(&plan, 0), picks(&other, 0));
    }

    #[test]
    fn round_robin_walks_the_list_from_staggered_starts() {
        let plan = TargetPlan::new(&[1, 1, 1, 1], TargetOrder::RoundRobin, 2, 0);
        let walk = |conn| -> Vec<usize> {
            let mut p = plan.picker(conn);
            (0..6).map(|_| p.next_target()).collect()
        };
        assert_eq!(walk(0), [0, 1, 2, 3, 0, 1]);
        assert_eq!(walk(1), [2, 3, 0, 1, 2, 3]);
        // Weights repeat a target; starts land inside a turn.
        let plan = TargetPlan::new(&[2, 1, 3], TargetOrder::RoundRobin, 3, 0);
        let walk = |conn| -> Vec<usize> {
            let mut p = plan.picker(conn);
            (0..7).map(|_| p.next_target()).collect()
        };
        assert_eq!(walk(0), [0, 0, 1, 2, 2, 2, 0]);
        assert_eq!(walk(1), [1, 2, 2, 2, 0, 0, 1]);
        assert_eq!(walk(2), [2, 2, 0, 0, 1, 2, 2]);
    }

    #[test]
    fn round_robin_shares_are_the_weights_exactly() {
        let weights = [3, 1, 4, 1, 5];
        let total: u32 = weights.iter().sum();
        for connections in [1, 2, 7, 14, 100] {
            let plan = TargetPlan::new(&weights, TargetOrder::RoundRobin, connections, 0);
            let mut counts = [0u32; 5];
            for conn in 0..connections {
                let mut p = plan.picker(conn);
                for _ in 0..total * 10 {
                    counts[p.next_target()] += 1;
                }
            }
            for (t, &w) in weights.iter().enumerate() {
                assert_eq!(counts[t], w * 10 * connections, "{connections} connections");
            }
        }
    }
}
