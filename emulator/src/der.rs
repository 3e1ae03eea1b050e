//! Just enough DER to read an X.509 certificate's RSA public key: the emulator checks the
//! signatures of certificate credentials' client assertions with it.
//!
//! Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber,
//! signature, issuer, validity, subject, subjectPublicKeyInfo SEQUENCE { algorithm,
//! subjectPublicKey BIT STRING }, ... }, ... } (RFC 5280, section 4.1).

/// One TLV: its tag, its content, and what follows it.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

const SEQUENCE: u8 = 0x30;
const BIT_STRING: u8 = 0x03;
const VERSION: u8 = 0xa0;

/// The PKCS#1 `RSAPublicKey` (the subjectPublicKey bits) of a DER certificate.
pub fn rsa_public_key(cert: &[u8]) -> Option<&[u8]> {
    let (tag, certificate, _) = tlv(cert)?;
    if tag != SEQUENCE {
        return None;
    }
    let (tag, tbs, _) = tlv(certificate)?;
    if tag != SEQUENCE {
        return None;
    }
    let mut rest = tbs;
    let (tag, _, after) = tlv(rest)?;
    if tag == VERSION {
        rest = after;
    }
    // serialNumber, signature, issuer, validity, subject.
    for _ in 0..5 {
        rest = tlv(rest)?.2;
    }
    let (tag, spki, _) = tlv(rest)?;
    if tag != SEQUENCE {
        return None;
    }
    let (_, _, after_algorithm) = tlv(spki)?;
    let (tag, bits, _) = tlv(after_algorithm)?;
    if tag != BIT_STRING {
        return None;
    }
    // The first content byte counts the unused bits (0 for a key).
    match bits.split_first() {
        Some((0, key)) => Some(key),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_key_of_a_generated_certificate_and_refuses_junk() {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["x".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        // rcgen's default key is ECDSA P-256: the "key" read is its raw point, which is
        // what the BIT STRING holds; an RSA certificate's holds RSAPublicKey.
        let bits = rsa_public_key(cert.der()).unwrap();
        assert_eq!(bits, key.public_key_raw());
        assert!(rsa_public_key(b"junk").is_none());
        assert!(rsa_public_key(&[]).is_none());
    }
}
