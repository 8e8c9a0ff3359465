//! HTTPS: the server's certificate and key (from PEM files, or made up at
//! start for local use) and the TLS handshake of each connection, with
//! rustls on the `ring` provider. HTTP/1.1 only (ALPN `http/1.1`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::ring;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

/// The names a self-signed certificate is made for: what a local client
/// connects to.
pub const SELF_SIGNED_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// A server's TLS identity, ready to accept connections.
#[derive(Clone)]
pub struct Tls {
    acceptor: tokio_rustls::TlsAcceptor,
    /// The leaf certificate, PEM-encoded.
    certificate_pem: String,
    /// SHA-256 of the leaf certificate's DER bytes.
    fingerprint: [u8; 32],
}

/// Why TLS could not be set up; each names the file and what is wrong.
#[derive(Debug)]
pub enum TlsError {
    /// A file could not be read or holds no usable PEM of its kind.
    File { path: PathBuf, problem: String },
    /// The certificate and key were read but do not make a TLS identity
    /// (the key does not match the certificate, say).
    Identity(String),
    /// A certificate could not be made.
    Generate(String),
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::File { path, problem } => write!(f, "{}: {problem}", path.display()),
            TlsError::Identity(problem) => {
                write!(f, "the TLS certificate and key cannot be used: {problem}")
            }
            TlsError::Generate(problem) => {
                write!(f, "cannot make a self-signed certificate: {problem}")
            }
        }
    }
}

impl std::error::Error for TlsError {}

impl Tls {
    /// The certificate chain in `cert` (leaf first) and the private key in
    /// `key`, both PEM files.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Tls, TlsError> {
        let file_error = |path: &Path, problem: String| TlsError::File {
            path: path.to_path_buf(),
            problem,
        };
        let cert_bytes =
            std::fs::read(cert).map_err(|e| file_error(cert, format!("cannot read it: {e}")))?;
        let chain = CertificateDer::pem_slice_iter(&cert_bytes)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| file_error(cert, format!("not a PEM certificate file: {e}")))?;
        if chain.is_empty() {
            return Err(file_error(
                cert,
                "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
            ));
        }
        let key_bytes =
            std::fs::read(key).map_err(|e| file_error(key, format!("cannot read it: {e}")))?;
        let key_der = PrivateKeyDer::from_pem_slice(&key_bytes).map_err(|e| {
            file_error(
                key,
                format!("holds no usable PEM private key (PKCS#8, PKCS#1 or SEC1): {e}"),
            )
        })?;
        Tls::new(chain, key_der)
    }

    /// A certificate made now for [`SELF_SIGNED_NAMES`], with a new key;
    /// clients trust it by its PEM ([`Tls::certificate_pem`]) or
    /// fingerprint.
    pub fn self_signed() -> Result<Tls, TlsError> {
        let names: Vec<String> = SELF_SIGNED_NAMES.iter().map(|n| n.to_string()).collect();
        let made = rcgen::generate_simple_self_signed(names)
            .map_err(|e| TlsError::Generate(e.to_string()))?;
        let key = PrivateKeyDer::try_from(made.signing_key.serialize_der())
            .map_err(|e| TlsError::Generate(e.to_string()))?;
        Tls::new(vec![made.cert.der().clone()], key)
    }

    fn new(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Tls, TlsError> {
        let leaf = chain[0].clone();
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Identity(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| TlsError::Identity(e.to_string()))?;
        // The server speaks HTTP/1.1 only; a client that offers ALPN and
        // not http/1.1 is refused in the handshake.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            certificate_pem: pem("CERTIFICATE", &leaf),
            fingerprint: Sha256::digest(&leaf).into(),
        })
    }

    /// The leaf certificate, PEM-encoded (what a client adds to its trust
    /// store for a self-signed server).
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// The leaf certificate's SHA-256 fingerprint as `openssl x509
    /// -fingerprint -sha256` prints it (`AB:CD:…`).
    pub fn fingerprint(&self) -> String {
        let hex: Vec<String> = self
            .fingerprint
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        hex.join(":")
    }

    pub(crate) fn acceptor(&self) -> &tokio_rustls::TlsAcceptor {
        &self.acceptor
    }
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("fingerprint", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

/// rustls on `ring`. rustls 0.23.48 deprecates this provider for lacking
/// post-quantum key exchange (only its aws-lc-rs provider has it); aws-lc-rs
/// is a long C build, and classical key exchange is what every AWS SDK
/// offers a local endpoint anyway (ADR 0013).
#[allow(deprecated)]
pub(crate) fn provider() -> rustls::crypto::CryptoProvider {
    ring::default_provider()
}

/// `der` as a PEM block of `label`.
fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let text = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in text.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_certificate_reads_back_from_its_pem() {
        let tls = Tls::self_signed().expect("self-signed");
        let der = CertificateDer::from_pem_slice(tls.certificate_pem().as_bytes()).expect("PEM");
        let digest: [u8; 32] = Sha256::digest(&der).into();
        assert_eq!(digest, tls.fingerprint);
        let shown = tls.fingerprint();
        assert_eq!(shown.len(), 32 * 3 - 1);
        assert!(shown.split(':').all(|b| b.len() == 2));
    }

    #[test]
    fn unusable_files_are_named_with_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        let missing = Tls::from_pem_files(&cert, &key).unwrap_err().to_string();
        assert!(
            missing.starts_with(&format!("{}: cannot read it", cert.display())),
            "{missing}"
        );
        std::fs::write(&cert, "not a certificate").unwrap();
        let empty = Tls::from_pem_files(&cert, &key).unwrap_err().to_string();
        assert!(empty.contains("holds no PEM certificate"), "{empty}");

        // A certificate with a key that is not its own.
        let one = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let other = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        std::fs::write(&cert, one.cert.pem()).unwrap();
        std::fs::write(
            &key,
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        assert!(Tls::from_pem_files(&cert, &key).is_err());
        std::fs::write(&key, other.signing_key.serialize_pem()).unwrap();
        let mismatch = Tls::from_pem_files(&cert, &key).unwrap_err().to_string();
        assert!(
            mismatch.starts_with("the TLS certificate and key cannot be used"),
            "{mismatch}"
        );
        std::fs::write(&key, one.signing_key.serialize_pem()).unwrap();
        Tls::from_pem_files(&cert, &key).expect("a matching pair");
    }
}
