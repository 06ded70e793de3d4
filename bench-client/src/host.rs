//! Facts about the generator host, recorded in every result so that runs
//! from different machines are never compared by accident.
//!
//! Every source is optional: a missing `/proc/cpuinfo` (containers, other
//! operating systems) or a failing `uname` gives a fallback value, never a
//! panic.

use std::path::Path;

use crate::result::Host;

/// What is recorded when a fact cannot be found.
const UNKNOWN: &str = "unknown";

/// The host this process runs on.
pub fn host_info() -> Host {
    let uts = nix::sys::utsname::uname().ok();
    let field = |f: fn(&nix::sys::utsname::UtsName) -> &std::ffi::OsStr| {
        uts.as_ref()
            .map(|u| f(u).to_string_lossy().into_owned())
            .filter(|s| !s.is_empty())
    };
    let kernel = field(|u| u.release()).unwrap_or_else(|| UNKNOWN.to_string());
    let hostname = field(|u| u.nodename()).unwrap_or_default();
    let cpu = cpu_model(Path::new("/proc/cpuinfo"))
        .or_else(|| field(|u| u.machine()))
        .unwrap_or_else(|| UNKNOWN.to_string());
    let cores = std::thread::available_parallelism()
        .map(|n| u32::try_from(n.get()).unwrap_or(u32::MAX))
        .unwrap_or(1);
    Host {
        os: std::env::consts::OS.to_string(),
        kernel,
        cpu,
        cores,
        hostname,
    }
}

/// The first `model name` in a cpuinfo file, if it has one.
fn cpu_model(cpuinfo: &Path) -> Option<String> {
    let text = std::fs::read_to_string(cpuinfo).ok()?;
    model_name(&text)
}

/// Parses cpuinfo text. Some architectures (arm64) have no `model name`
/// line, which is why the caller falls back to the machine name.
fn model_name(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        let value = value.trim();
        (key.trim() == "model name" && !value.is_empty()).then(|| value.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_name_takes_first_processor_entry() {
        let text = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n\n\
                    processor\t: 1\nmodel name\t: Other CPU\n";
        assert_eq!(
            model_name(text).as_deref(),
            Some("Intel(R) Xeon(R) CPU @ 2.20GHz")
        );
    }

    #[test]
    fn model_name_absent_or_empty_is_none() {
        assert_eq!(model_name("processor\t: 0\nBogoMIPS\t: 50.00\n"), None);
        assert_eq!(model_name("model name\t:   \n"), None);
        assert_eq!(model_name(""), None);
    }

    #[test]
    fn missing_cpuinfo_file_is_none_not_a_panic() {
        assert_eq!(cpu_model(Path::new("/nonexistent/cpuinfo")), None);
    }

    #[test]
    fn host_info_fills_every_field() {
        let h = host_info();
        assert_eq!(h.os, std::env::consts::OS);
        assert!(!h.kernel.is_empty());
        assert!(!h.cpu.is_empty());
        assert!(h.cores >= 1);
        if cfg!(target_os = "linux") {
            // uname always works on Linux; the fallback must not have been used.
            assert_ne!(h.kernel, UNKNOWN);
            let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
            if !release.is_empty() {
                assert_eq!(h.kernel, release.trim());
            }
        }
    }
}
