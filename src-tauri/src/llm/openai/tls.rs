//! The TLS configuration of the HTTP clients: reqwest's own (rustls, the platform's certificate
//! verifier, HTTP/1.1), except that the system's root certificates are loaded at the first TLS
//! handshake instead of when a client is built.
//!
//! Loading them reads and parses every file of the system's certificate store (on this project's
//! machines about 140 certificates, 3–8 ms of CPU), and a client is built before the first request
//! of every command that runs or validates a crew. Against an `http://` endpoint (Ollama, LM
//! Studio, llama.cpp, vLLM on this machine) no handshake ever happens, so the roots are never
//! loaded; against `https://` they are loaded once per process, at the first handshake, and every
//! later handshake of every client uses them.
//!
//! The verifier is [`rustls_platform_verifier::Verifier`], unchanged: [`LazyPlatformVerifier`] only
//! defers its construction. If the roots cannot be loaded, every handshake fails with that reason
//! (before, the client could not be built).

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_platform_verifier::Verifier;

/// The TLS configuration every client of the process is built with (shared: one verifier, so
/// the roots are loaded once).
pub fn client_config() -> rustls::ClientConfig {
    static VERIFIER: OnceLock<Arc<LazyPlatformVerifier>> = OnceLock::new();
    let verifier = VERIFIER.get_or_init(|| Arc::new(LazyPlatformVerifier::new(provider())));
    let mut config = rustls::ClientConfig::builder_with_provider(verifier.provider.clone())
        .with_safe_default_protocol_versions()
        .expect("the default crypto provider supports the default TLS versions")
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    // As reqwest sets it for a client without HTTP/2.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

/// The process's default crypto provider if one was installed, else aws-lc-rs (reqwest's choice).
fn provider() -> Arc<CryptoProvider> {
    CryptoProvider::get_default().cloned().unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
}

/// The platform's verifier, built (the system's roots loaded) when it first verifies a server.
#[derive(Debug)]
pub struct LazyPlatformVerifier {
    provider: Arc<CryptoProvider>,
    /// The verifier, or why it could not be built (kept: every later handshake fails the same way).
    inner: OnceLock<Result<Verifier, rustls::Error>>,
}

impl LazyPlatformVerifier {
    fn new(provider: Arc<CryptoProvider>) -> LazyPlatformVerifier {
        LazyPlatformVerifier { provider, inner: OnceLock::new() }
    }

    /// Whether the system's roots have been loaded (or their loading failed).
    #[cfg(test)]
    fn is_loaded(&self) -> bool {
        self.inner.get().is_some()
    }

    fn verifier(&self) -> Result<&Verifier, rustls::Error> {
        self.inner.get_or_init(|| Verifier::new(self.provider.clone())).as_ref().map_err(Clone::clone)
    }
}

impl ServerCertVerifier for LazyPlatformVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.verifier()?.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verifier()?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verifier()?.verify_tls13_signature(message, cert, dss)
    }

    /// The provider's schemes, as the platform verifier answers (asked when a handshake begins,
    /// before any certificate is seen: no roots needed).
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_roots_are_loaded_at_the_first_verification_not_before() {
        let verifier = Arc::new(LazyPlatformVerifier::new(provider()));
        let _config = rustls::ClientConfig::builder_with_provider(verifier.provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone())
            .with_no_client_auth();
        assert!(!verifier.supported_verify_schemes().is_empty());
        assert!(!verifier.is_loaded(), "building a configuration and asking its schemes loads no roots");

        // A certificate that is not one: the platform verifier (now loaded) rejects it.
        let name = ServerName::try_from("example.com").unwrap();
        let refused = verifier.verify_server_cert(&CertificateDer::from(vec![0x30, 0x00]), &[], &name, &[], UnixTime::now());
        assert!(refused.is_err());
        assert!(verifier.is_loaded());
    }

    #[test]
    fn the_shared_configuration_speaks_http1_with_sni() {
        let config = client_config();
        assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
        assert!(config.enable_sni);
    }
}
