//! `--tls`: a self-signed certificate made at start-up for the listening
//! address, and the PEM file a client reads to trust it.
//!
//! Only the certificate is written, in a fresh folder only this user can
//! enter, removed when the server stops cleanly. The private key never
//! touches the disk: no client needs it, and a key file left behind by a
//! killed server would be a secret lying in a shared temp folder.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, SanType};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::TlsError;

/// A certificate and its key, with the PEM file that holds the certificate.
pub(super) struct SelfSigned {
    pub(super) chain: Vec<CertificateDer<'static>>,
    pub(super) key: PrivateKeyDer<'static>,
    pub(super) file: CertFile,
}

/// The written certificate; dropping it removes the file and its folder.
/// (Fork children `_exit` and so never drop the parent's copy.)
#[derive(Debug)]
pub struct CertFile {
    dir: PathBuf,
    path: PathBuf,
}

impl CertFile {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for CertFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// The names a certificate for a server bound to `ip` must carry: that IP
/// (for a wildcard bind, the loopback addresses a local client dials) and
/// `localhost`.
pub(super) fn subject_ips(ip: IpAddr) -> Vec<IpAddr> {
    if ip.is_unspecified() {
        vec![
            ip,
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ]
    } else {
        vec![ip]
    }
}

/// Makes a certificate for `ip` and writes it under `$TMPDIR`.
pub(super) fn make(ip: IpAddr) -> Result<SelfSigned, TlsError> {
    let failed = |e: rcgen::Error| TlsError::SelfSigned(e.to_string());
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "reference-servers self-signed");
    params.distinguished_name = name;
    params.subject_alt_names = subject_ips(ip)
        .into_iter()
        .map(SanType::IpAddress)
        .collect();
    params
        .subject_alt_names
        .push(SanType::DnsName("localhost".try_into().map_err(failed)?));
    let key = KeyPair::generate().map_err(failed)?;
    let cert = params.self_signed(&key).map_err(failed)?;
    let file = write_pem(&cert.pem())?;
    Ok(SelfSigned {
        chain: vec![cert.der().clone()],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        file,
    })
}

/// Writes `pem` as `cert.pem` in a new folder (mode 0700) named after this
/// process and the time, so two servers never share one.
fn write_pem(pem: &str) -> Result<CertFile, TlsError> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("reference-server-{}-{nanos}", std::process::id()));
    let io_failed = |what: &str, path: &Path, e: std::io::Error| {
        TlsError::SelfSigned(format!("cannot {what} {}: {e}", path.display()))
    };
    // create, not create_all: a folder already there is not ours to trust.
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(|e| io_failed("create the folder", &dir, e))?;
    let path = dir.join("cert.pem");
    // From here the folder exists, so a failure must still remove it.
    let file = CertFile { dir, path };
    std::fs::write(&file.path, pem).map_err(|e| io_failed("write", &file.path, e))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_bind_also_names_both_loopbacks() {
        let any4: IpAddr = "0.0.0.0".parse().unwrap();
        assert_eq!(
            subject_ips(any4),
            ["0.0.0.0", "127.0.0.1", "::1"].map(|s| s.parse::<IpAddr>().unwrap())
        );
        let one: IpAddr = "127.0.0.2".parse().unwrap();
        assert_eq!(subject_ips(one), [one]);
    }

    #[test]
    fn the_file_holds_the_certificate_and_goes_with_its_folder() {
        let made = make("127.0.0.1".parse().unwrap()).expect("make a certificate");
        let path = made.file.path().to_path_buf();
        let text = std::fs::read_to_string(&path).expect("read the PEM file");
        assert!(text.starts_with("-----BEGIN CERTIFICATE-----"), "{text}");
        assert!(!text.contains("PRIVATE KEY"), "the key stays in memory");
        let dir = path.parent().unwrap().to_path_buf();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        drop(made);
        assert!(!dir.exists(), "the folder is removed with the file");
    }
}
