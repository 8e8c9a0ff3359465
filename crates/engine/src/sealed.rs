//! Sealed tokens: what the server hands a client to send back later (a
//! PartiQL `NextToken`, a stream shard iterator) carries an HMAC-SHA256 tag
//! keyed with the database's secret, over the token's purpose, its tenant,
//! its context and its contents. A forged, edited, truncated or foreign
//! token fails the tag and is never decoded; `Verified<T>` is the only way
//! to hold a token's contents, and only `Sealer::open` builds one.

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use openddb_core::DynamoError;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the tag appended to a token's contents.
pub const TAG_BYTES: usize = 32;

/// Bytes of the secret.
pub const SECRET_BYTES: usize = 32;

/// Separates this use of the secret from any later one.
const DOMAIN: &[u8] = b"openddb sealed token v1\0";

/// What a token is for: a token of one kind is refused as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    PartiqlNextToken,
    ShardIterator,
}

impl Purpose {
    fn code(self) -> u8 {
        match self {
            Purpose::PartiqlNextToken => 1,
            Purpose::ShardIterator => 2,
        }
    }
}

/// The database's secret: from the data directory, or made up per
/// in-memory database.
#[derive(Clone)]
pub struct TokenSecret([u8; SECRET_BYTES]);

impl TokenSecret {
    pub fn new(bytes: [u8; SECRET_BYTES]) -> TokenSecret {
        TokenSecret(bytes)
    }

    /// A fresh secret from the operating system's random source.
    pub fn random() -> Result<TokenSecret, String> {
        let mut bytes = [0u8; SECRET_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| format!("no random bytes for a secret: {e}"))?;
        Ok(TokenSecret(bytes))
    }
}

impl std::fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSecret(..)")
    }
}

/// What a token carries, written to and read from bytes. `read` gets only
/// bytes whose tag checked out, but must still refuse anything it did not
/// write (a secret can leak; a format can change).
pub trait Sealed: Sized {
    const PURPOSE: Purpose;
    fn write(&self, out: &mut Vec<u8>);
    fn read(bytes: &[u8]) -> Option<Self>;
}

/// Contents whose tag checked out for this tenant, purpose and context.
/// The field is private: nothing outside this module can make one.
#[derive(Debug)]
pub struct Verified<T>(T);

impl<T> Verified<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Verified<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// Seals and opens one tenant's tokens.
#[derive(Clone)]
pub struct Sealer {
    /// Keyed once; cloned per token (cheaper than re-keying).
    keyed: HmacSha256,
    tenant: String,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

impl Sealer {
    pub fn new(secret: &TokenSecret, tenant: &str) -> Sealer {
        Sealer {
            keyed: keyed(secret),
            tenant: tenant.to_string(),
        }
    }

    /// The MAC over everything a token is bound to. Variable-length parts
    /// are length-prefixed so no two bindings give the same input.
    fn mac(&self, purpose: Purpose, context: &[u8], contents: &[u8]) -> HmacSha256 {
        let mut mac = self.keyed.clone();
        mac.update(DOMAIN);
        mac.update(&[purpose.code()]);
        for part in [self.tenant.as_bytes(), context] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.update(contents);
        mac
    }

    /// `value`'s bytes followed by their tag.
    pub fn seal<T: Sealed>(&self, value: &T, context: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        value.write(&mut out);
        let tag = self.mac(T::PURPOSE, context, &out).finalize().into_bytes();
        out.extend_from_slice(&tag);
        out
    }

    /// The contents of a sealed token, if its tag is this tenant's for this
    /// purpose and context (compared in constant time) and the contents
    /// read back.
    pub fn open<T: Sealed>(&self, sealed: &[u8], context: &[u8]) -> Option<Verified<T>> {
        let split = sealed.len().checked_sub(TAG_BYTES)?;
        let (contents, tag) = sealed.split_at(split);
        self.mac(T::PURPOSE, context, contents)
            .verify_slice(tag)
            .ok()?;
        T::read(contents).map(Verified)
    }

    /// `seal`, as base64 text.
    pub fn seal_text<T: Sealed>(&self, value: &T, context: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.seal(value, context))
    }

    /// `open` for base64 text of at most `max_len` characters (checked
    /// before anything is decoded).
    pub fn open_text<T: Sealed>(
        &self,
        text: &str,
        context: &[u8],
        max_len: usize,
    ) -> Option<Verified<T>> {
        if text.len() > max_len {
            return None;
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .ok()?;
        self.open(&bytes, context)
    }
}

/// A tenant's sealer, or the reason there is none (no random source for an
/// in-memory database's secret).
pub fn sealer_for(
    secret: &Result<TokenSecret, String>,
    tenant: &str,
) -> Result<Sealer, DynamoError> {
    match secret {
        Ok(s) => Ok(Sealer::new(s, tenant)),
        Err(e) => Err(DynamoError::internal(e.clone())),
    }
}

/// HMAC keyed with the secret. HMAC pads a key shorter than the hash's
/// block with zeros, so padding it here gives the same MAC without the
/// fallible any-length constructor.
fn keyed(secret: &TokenSecret) -> HmacSha256 {
    let mut block = [0u8; 64];
    block[..SECRET_BYTES].copy_from_slice(&secret.0);
    <HmacSha256 as KeyInit>::new(&block.into())
}

/// Reads fixed-width big-endian fields off the front of a token's bytes.
pub struct Fields<'a>(pub &'a [u8]);

impl<'a> Fields<'a> {
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    pub fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    pub fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }

    pub fn u64(&mut self) -> Option<u64> {
        Some(u64::from_be_bytes(self.take(8)?.try_into().ok()?))
    }

    /// The rest, consumed.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.0)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Pair(u32, u64);

    impl Sealed for Pair {
        const PURPOSE: Purpose = Purpose::ShardIterator;
        fn write(&self, out: &mut Vec<u8>) {
            out.extend_from_slice(&self.0.to_be_bytes());
            out.extend_from_slice(&self.1.to_be_bytes());
        }
        fn read(bytes: &[u8]) -> Option<Pair> {
            let mut r = Fields(bytes);
            let pair = Pair(r.u32()?, r.u64()?);
            r.is_empty().then_some(pair)
        }
    }

    /// Same bytes, another purpose.
    #[derive(Debug)]
    struct Other(Pair);

    impl Sealed for Other {
        const PURPOSE: Purpose = Purpose::PartiqlNextToken;
        fn write(&self, out: &mut Vec<u8>) {
            self.0.write(out)
        }
        fn read(bytes: &[u8]) -> Option<Other> {
            Pair::read(bytes).map(Other)
        }
    }

    fn secret(b: u8) -> TokenSecret {
        TokenSecret::new([b; SECRET_BYTES])
    }

    #[test]
    fn sealed_tokens_open_only_where_they_were_made() {
        let a = Sealer::new(&secret(1), "111111111111");
        let sealed = a.seal(&Pair(7, 9), b"ctx");
        assert_eq!(sealed.len(), 12 + TAG_BYTES);
        assert_eq!(
            a.open::<Pair>(&sealed, b"ctx").map(Verified::into_inner),
            Some(Pair(7, 9))
        );
        // Another tenant, secret, context or purpose.
        let b = Sealer::new(&secret(1), "222222222222");
        assert!(b.open::<Pair>(&sealed, b"ctx").is_none());
        let c = Sealer::new(&secret(2), "111111111111");
        assert!(c.open::<Pair>(&sealed, b"ctx").is_none());
        assert!(a.open::<Pair>(&sealed, b"ctx2").is_none());
        assert!(a.open::<Other>(&sealed, b"ctx").is_none());
        // Every single-bit edit, every truncation and an extension.
        for i in 0..sealed.len() {
            for bit in 0..8 {
                let mut edited = sealed.clone();
                edited[i] ^= 1 << bit;
                assert!(
                    a.open::<Pair>(&edited, b"ctx").is_none(),
                    "byte {i} bit {bit}"
                );
            }
            assert!(a.open::<Pair>(&sealed[..i], b"ctx").is_none(), "first {i}");
        }
        let mut longer = sealed.clone();
        longer.push(0);
        assert!(a.open::<Pair>(&longer, b"ctx").is_none());
    }

    #[test]
    fn text_is_length_checked_before_decoding() {
        let a = Sealer::new(&secret(3), "t");
        let text = a.seal_text(&Pair(1, 2), b"");
        assert!(a.open_text::<Pair>(&text, b"", text.len()).is_some());
        assert!(a.open_text::<Pair>(&text, b"", text.len() - 1).is_none());
        assert!(a.open_text::<Pair>("not base64!", b"", 100).is_none());
        assert!(a.open_text::<Pair>("", b"", 100).is_none());
    }

    #[test]
    fn contents_that_do_not_read_back_are_refused_even_with_a_good_tag() {
        // A tag made over bytes `Pair::read` refuses (too short).
        let a = Sealer::new(&secret(4), "t");
        let contents = [1u8, 2, 3];
        let mut sealed = contents.to_vec();
        sealed.extend_from_slice(
            &a.mac(Purpose::ShardIterator, b"", &contents)
                .finalize()
                .into_bytes(),
        );
        assert!(a.open::<Pair>(&sealed, b"").is_none());
    }

    #[test]
    fn padded_key_is_the_secret_as_hmac_key() {
        let s = secret(5);
        let mut a = keyed(&s);
        let mut b = <HmacSha256 as KeyInit>::new_from_slice(&s.0).unwrap();
        a.update(b"x");
        b.update(b"x");
        assert_eq!(a.finalize().into_bytes(), b.finalize().into_bytes());
    }

    #[test]
    fn random_secrets_differ() {
        let (x, y) = (
            TokenSecret::random().unwrap(),
            TokenSecret::random().unwrap(),
        );
        assert_ne!(x.0, y.0);
    }
}
