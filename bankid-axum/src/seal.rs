//! Sealing: the order's state, encrypted and authenticated with AES-256-GCM (ring), in a cookie.
//!
//! A sealed value is `base64url(version || key id || nonce || ciphertext || tag)`:
//!
//! - `version`: one byte, `1`;
//! - `key id`: the first 4 bytes of SHA-256 over the key, so that opening tries the right key
//!   of the rotation list at once (a foreign key id is refused without trying every key);
//! - `nonce`: 12 random bytes from the operating system's generator for every seal;
//! - the additional authenticated data binds the value to its purpose (e.g. the cookie name
//!   and this crate's format version), so a value sealed for one purpose never opens as another.
//!
//! Random 96-bit nonces are safe for about 2^32 seals per key; rotate keys well before that
//! (at 1,000 polls a second that is 50 days).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom as _, SystemRandom};

const VERSION: u8 = 1;
const KEY_ID_LEN: usize = 4;
const HEADER_LEN: usize = 1 + KEY_ID_LEN + NONCE_LEN;
const TAG_LEN: usize = 16;

/// The longest sealed value [`Sealer::open`] looks at, in characters (a cookie is at most 4 KiB).
pub const MAX_SEALED_LEN: usize = 4096;

/// A 256-bit key for sealing the order cookie. `Debug` prints its key id only.
#[derive(Clone, PartialEq, Eq)]
pub struct Key([u8; 32]);

impl Key {
    /// A key from its 32 bytes.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A key from 64 hexadecimal digits (e.g. from `openssl rand -hex 32`).
    ///
    /// # Errors
    /// [`KeyError`] when the text is not exactly 64 hexadecimal digits.
    pub fn from_hex(hex_digits: &str) -> Result<Self, KeyError> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex_digits.trim(), &mut bytes).map_err(|_| KeyError)?;
        Ok(Self(bytes))
    }

    /// A fresh random key from the operating system's generator.
    ///
    /// # Errors
    /// [`KeyError`] when the generator fails (it does not on supported systems).
    pub fn generate() -> Result<Self, KeyError> {
        let mut bytes = [0u8; 32];
        SystemRandom::new().fill(&mut bytes).map_err(|_| KeyError)?;
        Ok(Self(bytes))
    }

    /// The key as 64 lowercase hexadecimal digits, to store it in a secret store.
    #[must_use]
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The key id written into each sealed value: the first 4 bytes of SHA-256 over the key.
    #[must_use]
    pub fn id(&self) -> [u8; KEY_ID_LEN] {
        let digest = ring::digest::digest(&ring::digest::SHA256, &self.0);
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest.as_ref()[..KEY_ID_LEN]);
        id
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key(id {}, [redacted])", hex::encode(self.id()))
    }
}

/// A key is not 64 hexadecimal digits, or no random key could be generated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyError;

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a cookie key must be 64 hexadecimal digits (32 bytes)")
    }
}

impl std::error::Error for KeyError {}

/// Why a sealed value was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OpenError {
    /// Not base64url, too short, too long, or an unknown format version.
    Malformed,
    /// Sealed under a key that is not in the list (a foreign or retired key).
    UnknownKey,
    /// The authentication tag does not match: tampered, or sealed for another purpose.
    Tampered,
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => "the sealed value is malformed",
            Self::UnknownKey => "the sealed value was sealed under an unknown key",
            Self::Tampered => "the sealed value does not authenticate (tampered or foreign)",
        })
    }
}

impl std::error::Error for OpenError {}

/// Seals with the first key of a list and opens with any of them.
pub struct Sealer {
    keys: Vec<([u8; KEY_ID_LEN], LessSafeKey)>,
    purpose: Vec<u8>,
    rng: SystemRandom,
}

impl Sealer {
    /// A sealer for `purpose` (part of the authenticated data) with `keys`: the first seals,
    /// all open. Returns `None` when `keys` is empty.
    #[must_use]
    pub fn new(keys: &[Key], purpose: &str) -> Option<Self> {
        let keys: Vec<_> = keys
            .iter()
            .map(|key| {
                // A 32-byte key always fits AES-256-GCM.
                let unbound = UnboundKey::new(&AES_256_GCM, &key.0).unwrap_or_else(|_| unreachable!());
                (key.id(), LessSafeKey::new(unbound))
            })
            .collect();
        (!keys.is_empty()).then(|| Self { keys, purpose: purpose.as_bytes().to_vec(), rng: SystemRandom::new() })
    }

    fn aad(&self, header: &[u8]) -> Vec<u8> {
        let mut aad = Vec::with_capacity(self.purpose.len() + header.len() + 1);
        aad.extend_from_slice(&self.purpose);
        aad.push(0);
        aad.extend_from_slice(header);
        aad
    }

    /// Seals `plaintext` under the first key.
    ///
    /// # Errors
    /// [`KeyError`] when the random generator fails (it does not on supported systems).
    pub fn seal(&self, plaintext: &[u8]) -> Result<String, KeyError> {
        let (id, key) = &self.keys[0];
        let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
        out.push(VERSION);
        out.extend_from_slice(id);
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| KeyError)?;
        out.extend_from_slice(&nonce);
        let aad = self.aad(&out[..HEADER_LEN]);
        let mut body = plaintext.to_vec();
        key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(&aad), &mut body)
            .map_err(|_| KeyError)?;
        out.extend_from_slice(&body);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    /// Opens a value sealed by [`Sealer::seal`] under any key of the list, for the same purpose.
    ///
    /// # Errors
    /// [`OpenError`]: malformed, unknown key, or tampered.
    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, OpenError> {
        if sealed.len() > MAX_SEALED_LEN {
            return Err(OpenError::Malformed);
        }
        let bytes = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| OpenError::Malformed)?;
        if bytes.len() < HEADER_LEN + TAG_LEN || bytes[0] != VERSION {
            return Err(OpenError::Malformed);
        }
        let id = &bytes[1..=KEY_ID_LEN];
        let (_, key) = self.keys.iter().find(|(key_id, _)| key_id == id).ok_or(OpenError::UnknownKey)?;
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&bytes[1 + KEY_ID_LEN..HEADER_LEN]);
        let aad = self.aad(&bytes[..HEADER_LEN]);
        let mut body = bytes[HEADER_LEN..].to_vec();
        let plain = key
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(&aad), &mut body)
            .map_err(|_| OpenError::Tampered)?;
        Ok(plain.to_vec())
    }
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealer")
            .field("key_ids", &self.keys.iter().map(|(id, _)| hex::encode(id)).collect::<Vec<_>>())
            .field("purpose", &String::from_utf8_lossy(&self.purpose))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> Key {
        Key::from_bytes([byte; 32])
    }

    #[test]
    fn round_trip_rotation_and_refusals() {
        let old = Sealer::new(&[key(1)], "p").unwrap();
        let sealed = old.seal(b"hello").unwrap();
        assert_eq!(old.open(&sealed).unwrap(), b"hello");
        // Rotation: a new first key seals, the old one still opens.
        let rotated = Sealer::new(&[key(2), key(1)], "p").unwrap();
        assert_eq!(rotated.open(&sealed).unwrap(), b"hello");
        let new = rotated.seal(b"x").unwrap();
        assert_eq!(old.open(&new), Err(OpenError::UnknownKey));
        // Retired keys no longer open.
        assert_eq!(Sealer::new(&[key(2)], "p").unwrap().open(&sealed), Err(OpenError::UnknownKey));
        // Another purpose does not open.
        assert_eq!(Sealer::new(&[key(1)], "q").unwrap().open(&sealed), Err(OpenError::Tampered));
        // Every flipped bit of the body is refused.
        let mut bytes = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        for i in HEADER_LEN..bytes.len() {
            bytes[i] ^= 1;
            assert_eq!(old.open(&URL_SAFE_NO_PAD.encode(&bytes)), Err(OpenError::Tampered), "byte {i}");
            bytes[i] ^= 1;
        }
        bytes[1 + KEY_ID_LEN] ^= 1; // the nonce
        assert_eq!(old.open(&URL_SAFE_NO_PAD.encode(&bytes)), Err(OpenError::Tampered));
        assert_eq!(old.open("not base64!"), Err(OpenError::Malformed));
        assert_eq!(old.open(""), Err(OpenError::Malformed));
        assert_eq!(old.open(&"A".repeat(MAX_SEALED_LEN + 1)), Err(OpenError::Malformed));
        assert!(Sealer::new(&[], "p").is_none());
        // Two seals of the same text differ (fresh nonces).
        assert_ne!(old.seal(b"hello").unwrap(), sealed);
    }

    #[test]
    fn keys_parse_and_hide() {
        let k = Key::generate().unwrap();
        assert_eq!(Key::from_hex(&k.to_hex()).unwrap(), k);
        assert!(Key::from_hex("00").is_err());
        assert!(Key::from_hex(&"zz".repeat(32)).is_err());
        assert!(!format!("{k:?}").contains(&k.to_hex()));
    }
}
