//! Nix's base-32 encoding (the one in store paths and `sha256:` hashes),
//! with the helpers the fixtures need.

/// Encode bytes the way Nix prints hashes (`printHash32`): `nix-derivation`'s
/// encoder, the one crossplan itself uses, so the tests and the code under
/// test cannot disagree on the alphabet or the bit order.
pub fn encode(bytes: &[u8]) -> String {
    nix_derivation::nixbase32::encode(bytes)
}

/// `sha256:<nix32>` of 32 raw bytes.
pub fn sha256_string(digest: &[u8; 32]) -> String {
    format!("sha256:{}", encode(digest))
}

/// A store-path hash part (20 bytes, 32 characters).
pub fn store_hash(digest: &[u8; 20]) -> String {
    encode(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_match_nix() {
        assert_eq!(encode(&[0u8; 20]).len(), 32);
        assert_eq!(encode(&[0u8; 32]).len(), 52);
        assert_eq!(encode(&[0u8; 20]), "0".repeat(32));
    }

    #[test]
    fn matches_nix_hash_to_base32() {
        // `nix-hash --type sha256 --to-base32 $(printf hello | sha256sum)`
        let hex = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        let bytes: Vec<u8> = (0..32)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
            .collect();
        assert_eq!(
            encode(&bytes),
            "094qif9n4cq4fdg459qzbhg1c6wywawwaaivx0k0x8xhbyx4vwic"
        );
    }

    #[test]
    fn known_value() {
        // One byte 0xff: 8 bits -> 2 chars: high 3 bits (0b111 = 7), low 5 bits (31 = 'z').
        assert_eq!(encode(&[0xff]), "7z");
    }
}
