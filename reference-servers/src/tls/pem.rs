//! Reading `--tls-cert` and `--tls-key`: PEM files, a certificate chain
//! (leaf first) and one private key (PKCS#8, PKCS#1 or SEC1), with errors
//! that name the flag, the file and the form expected.

use std::path::Path;

use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::TlsError;

/// What a certificate file must hold.
const CERT_FORM: &str = "expected PEM 'BEGIN CERTIFICATE'";
/// What a key file must hold.
const KEY_FORM: &str = "expected PEM 'BEGIN PRIVATE KEY', 'BEGIN RSA PRIVATE KEY' \
                        or 'BEGIN EC PRIVATE KEY'";

/// Every certificate in `path`, in file order.
pub(super) fn load_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let fail = |why: String| TlsError::File {
        flag: "--tls-cert",
        path: path.to_path_buf(),
        why,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| fail(describe(e, CERT_FORM)))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(describe(e, CERT_FORM)))?;
    if certs.is_empty() {
        return Err(fail(format!("no certificate in file; {CERT_FORM}")));
    }
    Ok(certs)
}

/// The first private key in `path`.
pub(super) fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| TlsError::File {
        flag: "--tls-key",
        path: path.to_path_buf(),
        why: match e {
            pem::Error::NoItemsFound => format!("no private key in file; {KEY_FORM}"),
            other => describe(other, KEY_FORM),
        },
    })
}

fn describe(error: pem::Error, form: &str) -> String {
    match error {
        pem::Error::Io(io) => format!("cannot read it: {io}"),
        pem::Error::NoItemsFound => format!("nothing usable in file; {form}"),
        other => format!("not valid PEM ({other}); {form}"),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn file(contents: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().expect("a temp file");
        f.write_all(contents.as_bytes()).expect("write it");
        f
    }

    #[test]
    fn a_file_without_certificates_says_what_it_expected() {
        let f = file("hello\n");
        let err = load_chain(f.path()).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "--tls-cert {}: no certificate in file; expected PEM 'BEGIN CERTIFICATE'",
                f.path().display()
            )
        );
    }

    #[test]
    fn a_file_without_a_key_says_what_it_expected() {
        let f = file("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        let err = load_key(f.path()).unwrap_err().to_string();
        assert!(
            err.contains("no private key in file; expected PEM"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_file_names_the_flag_and_the_os_error() {
        let err = load_chain(Path::new("/no/such/cert.pem"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("--tls-cert /no/such/cert.pem: cannot read it: "),
            "{err}"
        );
    }

    #[test]
    fn a_broken_section_is_not_valid_pem() {
        let f = file("-----BEGIN CERTIFICATE-----\nAAAA\n");
        let err = load_chain(f.path()).unwrap_err().to_string();
        assert!(err.contains("not valid PEM"), "{err}");
    }
}
