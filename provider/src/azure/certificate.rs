//! Client certificate credentials: the service principal proves itself with a JWT it signs
//! with its certificate's private key (RFC 7523 client assertion, as Entra ID documents for
//! certificate credentials), sent to the token endpoint like an OIDC assertion.
//!
//! The file is a PEM file holding the certificate and its private key (PKCS#8 or PKCS#1,
//! unencrypted), or a PKCS#12 archive (`.pfx`/`.p12`, with or without a password), the
//! format azure-native documents for `ARM_CLIENT_CERTIFICATE_PATH`. RSA keys only: Entra ID
//! accepts RS256 assertions from certificate credentials.
//!
//! Each assertion is fresh (its own `jti`, ten minutes of validity) and names the
//! certificate by its SHA-1 (`x5t`) and SHA-256 (`x5t#S256`) thumbprints, so Entra ID finds
//! the registered certificate.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use rustls::pki_types::pem::{PemObject, SectionKind};
use std::path::Path;

/// A loaded certificate and its key. `Debug` shows only the thumbprint.
pub(crate) struct ClientCertificate {
    key: RsaKeyPair,
    x5t: String,
    x5t_s256: String,
    /// The SHA-1 thumbprint as Entra ID shows it (upper-case hex), for messages.
    thumbprint: String,
}

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("x5t", &self.x5t)
            .finish_non_exhaustive()
    }
}

/// How long an assertion is valid: Entra ID accepts up to ten minutes of clock skew.
const ASSERTION_SECS: u64 = 600;

impl ClientCertificate {
    /// Reads `path` (PEM or PKCS#12). Errors name the file and say what to fix; they never
    /// contain key material or the password.
    pub fn load(path: &Path, password: Option<&str>) -> Result<ClientCertificate, String> {
        let bytes = std::fs::read(path).map_err(|e| {
            format!(
                "cannot read the client certificate {} (clientCertificatePath / ARM_CLIENT_CERTIFICATE_PATH): {e}",
                path.display()
            )
        })?;
        let (cert, key) = if looks_like_pem(&bytes) {
            from_pem(&bytes)
        } else {
            from_pkcs12(&bytes, password.unwrap_or(""))
        }
        .map_err(|e| format!("the client certificate {}: {e}", path.display()))?;
        Self::from_der(&cert, &key)
            .map_err(|e| format!("the client certificate {}: {e}", path.display()))
    }

    /// From a DER certificate and a DER private key (PKCS#8, or PKCS#1 `RSAPrivateKey`).
    pub fn from_der(cert: &[u8], key: &[u8]) -> Result<ClientCertificate, String> {
        let key = RsaKeyPair::from_pkcs8(key)
            .or_else(|_| RsaKeyPair::from_der(key))
            .map_err(|e| {
                format!("its private key is not a usable RSA key ({e}); certificate credentials need an RSA key of 2048 bits or more")
            })?;
        let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, cert);
        let sha256 = ring::digest::digest(&ring::digest::SHA256, cert);
        Ok(ClientCertificate {
            key,
            x5t: URL_SAFE_NO_PAD.encode(sha1.as_ref()),
            x5t_s256: URL_SAFE_NO_PAD.encode(sha256.as_ref()),
            thumbprint: sha1.as_ref().iter().map(|b| format!("{b:02X}")).collect(),
        })
    }

    /// The SHA-1 thumbprint as Entra ID shows it (upper-case hex), for messages.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// A signed client assertion for `client_id` at the token endpoint `audience`.
    pub fn assertion(
        &self,
        client_id: &str,
        audience: &str,
        now_secs: u64,
    ) -> Result<String, String> {
        let header = serde_json::json!({
            "alg": "RS256",
            "typ": "JWT",
            "x5t": self.x5t,
            "x5t#S256": self.x5t_s256,
        });
        let claims = serde_json::json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": azure_core::Uuid::new_v4().to_string(),
            "nbf": now_secs,
            "iat": now_secs,
            "exp": now_secs + ASSERTION_SECS,
        });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| "signing the client assertion failed".to_string())?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

fn looks_like_pem(bytes: &[u8]) -> bool {
    bytes.windows(11).any(|w| w == b"-----BEGIN ")
}

/// The first certificate and the first private key of a PEM file.
fn from_pem(bytes: &[u8]) -> Result<(Vec<u8>, Vec<u8>), String> {
    let mut cert = None;
    let mut key = None;
    for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(bytes) {
        let (kind, der) = section.map_err(|e| format!("it is not valid PEM ({e:?})"))?;
        match kind {
            SectionKind::Certificate if cert.is_none() => cert = Some(der),
            SectionKind::PrivateKey | SectionKind::RsaPrivateKey if key.is_none() => {
                key = Some(der)
            }
            _ => {}
        }
    }
    if key.is_none() && bytes.windows(21).any(|w| w == b"ENCRYPTED PRIVATE KEY") {
        return Err("its private key is encrypted; use the certificate as a password-protected .pfx (`openssl pkcs12 -export -in cert.pem -inkey key.pem -out cert.pfx`) with clientCertificatePassword, or decrypt the key (`openssl pkcs8 -in key.pem -out plain.pem`)".into());
    }
    match (cert, key) {
        (Some(c), Some(k)) => Ok((c, k)),
        (None, _) => Err(
            "it holds no CERTIFICATE section; the file needs the certificate and its private key"
                .into(),
        ),
        (_, None) => Err(
            "it holds no PRIVATE KEY section; the file needs the certificate and its private key"
                .into(),
        ),
    }
}

/// The private key and its leaf certificate from a PKCS#12 archive.
fn from_pkcs12(bytes: &[u8], password: &str) -> Result<(Vec<u8>, Vec<u8>), String> {
    let store = p12_keystore::KeyStore::from_pkcs12(
        bytes,
        password,
        p12_keystore::Pkcs12ImportPolicy::Relaxed,
    )
    .map_err(|e| {
        format!("it is neither PEM nor a PKCS#12 (.pfx) archive that opens with the given clientCertificatePassword ({e})")
    })?;
    let (_, chain) = store
        .private_key_chain()
        .ok_or("the PKCS#12 archive holds no private key with its certificate")?;
    let cert = chain
        .certs()
        .first()
        .ok_or("the PKCS#12 archive's key has no certificate")?;
    Ok((cert.as_der().to_vec(), chain.key().as_der().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_neither_pem_nor_pfx_is_named() {
        let dir = std::env::temp_dir().join(format!("datasnap-cert-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("junk.pem");
        std::fs::write(&p, b"not a certificate").unwrap();
        let e = ClientCertificate::load(&p, None).unwrap_err();
        assert!(e.contains("junk.pem") && e.contains("PKCS#12"), "{e}");
        std::fs::write(
            &p,
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let e = ClientCertificate::load(&p, None).unwrap_err();
        assert!(e.contains("PRIVATE KEY"), "{e}");
        let e = ClientCertificate::load(&dir.join("missing.pem"), None).unwrap_err();
        assert!(e.contains("ARM_CLIENT_CERTIFICATE_PATH"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
