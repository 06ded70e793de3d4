//! Just enough DER to name a certificate in an error message: the subject's
//! common name and the subject alternative names. Sans-IO, allocation only
//! for the strings returned; anything unexpected yields fewer names, never a
//! panic (the bytes come from the peer).

/// What a certificate says it is for.
#[derive(Debug, Default, PartialEq)]
pub struct Names {
    /// `CN=...` of the subject.
    pub subject: Option<String>,
    /// DNS names and IP addresses of the subjectAltName extension.
    pub alt_names: Vec<String>,
}

/// One DER element: (tag, contents, rest).
fn element(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, b) = b.split_first()?;
    let (&first, mut b) = b.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || b.len() < n {
            return None;
        }
        let len = b[..n]
            .iter()
            .fold(0usize, |a, &x| (a << 8) | usize::from(x));
        b = &b[n..];
        len
    };
    if b.len() < len {
        return None;
    }
    Some((tag, &b[..len], &b[len..]))
}

/// The elements of a constructed value's contents.
fn children(mut b: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    std::iter::from_fn(move || {
        let (tag, content, rest) = element(b)?;
        b = rest;
        Some((tag, content))
    })
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
const OID_SAN: &[u8] = &[0x55, 0x1d, 0x11];

/// The names in certificate `der`.
pub fn names(der: &[u8]) -> Names {
    let mut out = Names::default();
    let Some((SEQUENCE, cert, _)) = element(der) else {
        return out;
    };
    let Some((SEQUENCE, tbs, _)) = element(cert) else {
        return out;
    };
    let mut fields = children(tbs).peekable();
    // [0] version is optional.
    if fields.peek().is_some_and(|&(tag, _)| tag == 0xa0) {
        fields.next();
    }
    // serial, signature, issuer, validity, subject
    let Some((SEQUENCE, subject)) = fields.nth(4) else {
        return out;
    };
    for (tag, rdn) in children(subject) {
        if tag != SET {
            continue;
        }
        for (_, atv) in children(rdn) {
            let mut parts = children(atv);
            if let (Some((0x06, oid)), Some((_, value))) = (parts.next(), parts.next()) {
                if oid == OID_CN {
                    out.subject = Some(format!("CN={}", String::from_utf8_lossy(value)));
                }
            }
        }
    }
    // The extensions are in [3], after the key and optional unique ids.
    for (tag, ext) in fields {
        if tag != 0xa3 {
            continue;
        }
        let Some((SEQUENCE, list, _)) = element(ext) else {
            continue;
        };
        for (_, e) in children(list) {
            let mut parts = children(e);
            let Some((0x06, oid)) = parts.next() else {
                continue;
            };
            if oid != OID_SAN {
                continue;
            }
            let Some(value) = parts.find(|&(tag, _)| tag == 0x04).map(|(_, v)| v) else {
                continue;
            };
            let Some((SEQUENCE, general, _)) = element(value) else {
                continue;
            };
            for (tag, name) in children(general) {
                match (tag, name.len()) {
                    (0x82, _) => out
                        .alt_names
                        .push(String::from_utf8_lossy(name).into_owned()),
                    (0x87, 4) => {
                        let a: [u8; 4] = name.try_into().expect("length checked");
                        out.alt_names.push(std::net::Ipv4Addr::from(a).to_string());
                    }
                    (0x87, 16) => {
                        let a: [u8; 16] = name.try_into().expect("length checked");
                        out.alt_names.push(std::net::Ipv6Addr::from(a).to_string());
                    }
                    _ => {}
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_a_generated_certificate() {
        let mut params = rcgen::CertificateParams::new(vec![
            "example.test".to_string(),
            "127.0.0.1".to_string(),
        ])
        .unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "bench test server");
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let n = names(cert.der());
        assert_eq!(n.subject.as_deref(), Some("CN=bench test server"));
        assert_eq!(n.alt_names, ["example.test", "127.0.0.1"]);
    }

    #[test]
    fn garbage_gives_no_names_at_every_length() {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["a.test".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let der = cert.der().to_vec();
        for end in 0..der.len() {
            let _ = names(&der[..end]);
        }
        assert_eq!(names(b"\x30\x84\xff\xff\xff\xff"), Names::default());
    }
}
