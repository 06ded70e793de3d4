//! The JSON result file: where it goes by default, writing it atomically (a
//! reader never sees half a result, even if the process dies mid-write) and
//! reading it back with errors that name the file and the problem.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context as _;

use crate::exit::UsageError;
use crate::result::{RunResult, SCHEMA_VERSION};

/// Why a result could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// The reason is the `source`, so that an error chain printed with
    /// `{:#}` says it once.
    #[error("cannot write result to {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot create the folder {dir} for the result")]
    CreateDir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// JSON has no NaN or infinity: serde_json would write `null`, which
    /// would then fail to load, so such a result is refused before writing.
    #[error("refusing to write result to {path}: {fields} not a finite number (a bug in the producer of this result)")]
    NonFinite { path: PathBuf, fields: String },
}

/// Labels longer than this are cut, to keep file names manageable.
const MAX_LABEL_CHARS: usize = 64;

/// `DIR/<UTC timestamp>-<label>.json`, e.g. `results/20261125T192000Z-selector.json`.
///
/// The label is reduced to `[A-Za-z0-9._-]` (anything else becomes `_`) so
/// that it is safe in a file name on every system. If that file already
/// exists (two runs in the same second), `-2`, `-3`, ... is appended rather
/// than overwriting an earlier result.
pub fn default_path(dir: &Path, started: SystemTime, label: &str) -> PathBuf {
    let stem = match sanitize_label(label) {
        l if l.is_empty() => utc_stamp(started),
        l => format!("{}-{l}", utc_stamp(started)),
    };
    let first = dir.join(format!("{stem}.json"));
    if !first.exists() {
        return first;
    }
    (2..10_000)
        .map(|n| dir.join(format!("{stem}-{n}.json")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

/// `YYYYMMDDTHHMMSSZ` in UTC (RFC 3339 without separators, so it sorts and
/// is a valid file name on every system).
fn utc_stamp(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t)
        .to_string()
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect()
}

fn sanitize_label(label: &str) -> String {
    label
        .trim()
        .chars()
        .take(MAX_LABEL_CHARS)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        // A leading dot would hide the file; leading dashes read as options.
        .trim_start_matches(['.', '-'])
        .to_string()
}

/// Writes `result` to `path` (creating its folder) via a temporary file and a rename.
///
/// The temporary file lives in the same folder (a rename is only atomic
/// within one file system) and is fsynced before the rename, and the folder
/// after it, so that after a crash either the old state or the whole new
/// file is on disk.
pub fn save(result: &RunResult, path: &Path) -> Result<(), SaveError> {
    let io_err = |source| SaveError::Io {
        path: path.to_path_buf(),
        source,
    };
    let bytes = to_bytes(result, path)?;

    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir).map_err(|source| SaveError::CreateDir {
        dir: dir.to_path_buf(),
        source,
    })?;
    let name = path.file_name().ok_or_else(|| {
        io_err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the path names a folder, not a file",
        ))
    })?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = write_synced(&tmp, &bytes).and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(e));
    }
    // Persist the rename itself. Some file systems refuse to fsync a folder;
    // the file is complete either way, so that is not worth failing over.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Writes `result` as JSON to `out` (`-o -`: stdout, for `jq` pipelines).
pub fn write_to(result: &RunResult, out: &mut impl std::io::Write) -> Result<(), SaveError> {
    let path = Path::new("-");
    let bytes = to_bytes(result, path)?;
    out.write_all(&bytes)
        .and_then(|()| out.flush())
        .map_err(|source| SaveError::Io {
            path: path.to_path_buf(),
            source,
        })
}

/// The document as pretty JSON with a final newline; a non-finite number
/// (which JSON cannot hold) is refused with the fields that carry one.
fn to_bytes(result: &RunResult, path: &Path) -> Result<Vec<u8>, SaveError> {
    let bad = non_finite_fields(result);
    if !bad.is_empty() {
        let verb = if bad.len() == 1 { "is" } else { "are" };
        return Err(SaveError::NonFinite {
            path: path.to_path_buf(),
            fields: format!("{} {verb}", bad.join(", ")),
        });
    }
    let mut bytes = serde_json::to_vec_pretty(result).map_err(|e| SaveError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
    })?;
    bytes.push(b'\n');
    Ok(bytes)
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Names of the float fields of `r` that are NaN or infinite.
fn non_finite_fields(r: &RunResult) -> Vec<String> {
    let mut fields: Vec<(String, f64)> = vec![
        ("config.timeout_s".into(), r.config.timeout_s),
        ("config.warmup_s".into(), r.config.warmup_s),
        ("summary.duration_s".into(), r.summary.duration_s),
        (
            "summary.requests_per_sec".into(),
            r.summary.requests_per_sec,
        ),
        ("latency.mean".into(), r.latency.mean),
        ("latency.stdev".into(), r.latency.stdev),
        ("fairness.jain".into(), r.fairness.jain),
    ];
    let optional = [
        ("config.duration_s", r.config.duration_s),
        ("config.rate", r.config.rate),
        ("summary.target_rate", r.summary.target_rate),
        ("summary.achieved_rate", r.summary.achieved_rate),
        (
            "latency_uncorrected.mean",
            r.latency_uncorrected.as_ref().map(|l| l.mean),
        ),
        (
            "latency_uncorrected.stdev",
            r.latency_uncorrected.as_ref().map(|l| l.stdev),
        ),
    ];
    fields.extend(
        optional
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_string(), v))),
    );
    for (i, e) in r.timeline.iter().enumerate() {
        if let Some(v) = e.target_rate {
            fields.push((format!("timeline[{i}].target_rate"), v));
        }
        if let Some(v) = e.achieved_rate {
            fields.push((format!("timeline[{i}].achieved_rate"), v));
        }
    }
    fields
        .into_iter()
        .filter(|(_, v)| !v.is_finite())
        .map(|(k, _)| k)
        .collect()
}

/// Reads a result file, with an error naming the file and what is wrong:
/// a [`UsageError`], since the file is the user's input.
pub fn load(path: &Path) -> anyhow::Result<RunResult> {
    read(path).map_err(|e| UsageError(e).into())
}

fn read(path: &Path) -> anyhow::Result<RunResult> {
    let shown = path.display();
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read result file {shown}"))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{shown} is not JSON (is it a bench-client result file?)"))?;
    let version = value
        .get("schema_version")
        .ok_or_else(|| {
            anyhow::anyhow!("{shown} has no schema_version: it is not a bench-client result file")
        })?
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("{shown}: schema_version must be a whole number"))?;
    if version > u64::from(SCHEMA_VERSION) {
        anyhow::bail!(
            "{shown} has schema_version {version}, newer than this bench-client reads \
             ({SCHEMA_VERSION}): use a newer bench-client"
        );
    }
    // Parsed from the text (not from `value`) so that errors carry a line and column.
    serde_json::from_str(&text)
        .with_context(|| format!("{shown} is not a valid bench-client result"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::report::testing::{closed_loop_result, open_loop_result};

    fn at(rfc3339: &str) -> SystemTime {
        humantime::parse_rfc3339(rfc3339).unwrap()
    }

    #[test]
    fn default_path_is_utc_stamp_and_label() {
        let dir = tempfile::tempdir().unwrap();
        let p = default_path(dir.path(), at("2026-11-25T19:20:00Z"), "selector");
        assert_eq!(p, dir.path().join("20261125T192000Z-selector.json"));
        // Sub-second parts are dropped, not rounded into the next second.
        let t = at("2026-01-02T03:04:05Z") + Duration::from_millis(999);
        let p = default_path(dir.path(), t, "x");
        assert_eq!(p, dir.path().join("20260102T030405Z-x.json"));
    }

    #[test]
    fn default_path_sanitizes_label() {
        let dir = Path::new("results");
        let t = at("2026-11-25T19:20:00Z");
        assert_eq!(
            default_path(dir, t, "my run/../ü 2").file_name().unwrap(),
            "20261125T192000Z-my_run_..___2.json"
        );
        assert_eq!(
            default_path(dir, t, "..hidden").file_name().unwrap(),
            "20261125T192000Z-hidden.json"
        );
        assert_eq!(
            default_path(dir, t, "").file_name().unwrap(),
            "20261125T192000Z.json"
        );
        let long = "a".repeat(300);
        let name = default_path(dir, t, &long);
        assert_eq!(
            name.file_name().unwrap().len(),
            "20261125T192000Z-".len() + MAX_LABEL_CHARS + ".json".len()
        );
    }

    #[test]
    fn default_path_does_not_overwrite_an_earlier_result() {
        let dir = tempfile::tempdir().unwrap();
        let t = at("2026-11-25T19:20:00Z");
        let first = default_path(dir.path(), t, "sync");
        fs::write(&first, "{}").unwrap();
        let second = default_path(dir.path(), t, "sync");
        assert_eq!(second, dir.path().join("20261125T192000Z-sync-2.json"));
    }

    #[test]
    fn save_then_load_round_trips_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/deeper/r.json");
        let r = open_loop_result();
        save(&r, &path).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.ends_with("}\n"), "pretty JSON plus newline");
        assert!(text.starts_with("{\n  \"schema_version\": 1,"));
        let back = load(&path).unwrap();
        assert_eq!(
            serde_json::to_value(&back).unwrap(),
            serde_json::to_value(&r).unwrap()
        );
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("r.json")]);
    }

    #[test]
    fn save_replaces_existing_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        fs::write(&path, "x".repeat(100_000)).unwrap();
        save(&closed_loop_result(), &path).unwrap();
        load(&path).unwrap();
    }

    #[test]
    fn save_refuses_nan_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        let mut r = closed_loop_result();
        r.fairness.jain = f64::NAN;
        r.summary.requests_per_sec = f64::INFINITY;
        let err = save(&r, &path).unwrap_err().to_string();
        assert!(
            err.contains("summary.requests_per_sec, fairness.jain are not a finite number"),
            "{err}"
        );
        assert!(!path.exists());
    }

    #[test]
    fn save_into_unwritable_place_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        fs::write(&blocker, "").unwrap();
        let path = blocker.join("r.json");
        let err = anyhow::Error::from(save(&closed_loop_result(), &path).unwrap_err());
        // The reason appears once in the chain.
        assert_eq!(
            format!("{err:#}"),
            format!(
                "cannot create the folder {} for the result: File exists (os error 17)",
                blocker.display()
            )
        );
    }

    /// The error of loading `content`; the folder is kept alive until the
    /// message has been built.
    fn load_err(content: &str) -> (PathBuf, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.json");
        fs::write(&path, content).unwrap();
        let err = format!("{:#}", load(&path).unwrap_err());
        (path, err)
    }

    #[test]
    fn load_of_missing_file_names_it() {
        let err = format!("{:#}", load(Path::new("/nonexistent/r.json")).unwrap_err());
        assert!(
            err.starts_with("cannot read result file /nonexistent/r.json: "),
            "{err}"
        );
    }

    #[test]
    fn load_of_non_json_says_so() {
        let (path, err) = load_err("hello");
        assert!(
            err.starts_with(&format!("{} is not JSON", path.display())),
            "{err}"
        );
    }

    #[test]
    fn load_of_newer_schema_version_says_upgrade() {
        let mut v = serde_json::to_value(closed_loop_result()).unwrap();
        v["schema_version"] = serde_json::json!(SCHEMA_VERSION + 1);
        let (path, err) = load_err(&v.to_string());
        assert_eq!(
            err,
            format!(
                "{} has schema_version {}, newer than this bench-client reads ({}): use a newer bench-client",
                path.display(),
                SCHEMA_VERSION + 1,
                SCHEMA_VERSION
            )
        );
    }

    #[test]
    fn load_without_schema_version_is_not_a_result() {
        let (path, err) = load_err(r#"{"requests": 3}"#);
        assert_eq!(
            err,
            format!(
                "{} has no schema_version: it is not a bench-client result file",
                path.display()
            )
        );
    }

    #[test]
    fn load_names_a_missing_field() {
        let mut v = serde_json::to_value(closed_loop_result()).unwrap();
        v.as_object_mut().unwrap().remove("fairness");
        let (path, err) = load_err(&serde_json::to_string_pretty(&v).unwrap());
        assert!(
            err.starts_with(&format!(
                "{} is not a valid bench-client result: missing field `fairness`",
                path.display()
            )),
            "{err}"
        );
    }

    #[test]
    fn load_accepts_absent_optional_fields() {
        let mut v = serde_json::to_value(closed_loop_result()).unwrap();
        let o = v.as_object_mut().unwrap();
        o.remove("label");
        o.remove("latency_uncorrected");
        o["host"].as_object_mut().unwrap().remove("hostname");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.json");
        fs::write(&path, v.to_string()).unwrap();
        let r = load(&path).unwrap();
        assert_eq!(r.label, None);
        assert_eq!(r.host.hostname, "");
    }
}
