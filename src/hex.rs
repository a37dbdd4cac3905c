//! Lower-case hex, for token hashes, signatures and session cookies.

pub fn encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes `text` spells, or `None` when it is not whole hex pairs.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trips_and_refuses_what_is_not_hex() {
        assert_eq!(super::encode(&[0, 15, 255]), "000fff");
        assert_eq!(super::decode("000fff"), Some(vec![0, 15, 255]));
        assert_eq!(super::decode("000FFF"), Some(vec![0, 15, 255]));
        for bad in ["0", "zz", "0g", "ффff"] {
            assert_eq!(super::decode(bad), None, "{bad}");
        }
    }
}
