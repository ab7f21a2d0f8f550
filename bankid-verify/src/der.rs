//! A strict DER reader: single-byte tags, definite minimal lengths, no reads past the end. It
//! never recurses (callers descend one level at a time), so no input can exhaust the stack.

/// What did not hold while reading DER (kept small: the callers add which structure it was).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DerError {
    /// The input ended inside a TLV.
    Truncated,
    /// A multi-byte tag, an indefinite or non-minimal length, or a length over 16 MiB.
    BadEncoding,
    /// Another tag was expected here.
    UnexpectedTag,
    /// Bytes were left over after the structure.
    TrailingData,
}

/// A cursor over a sequence of DER TLVs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
}

/// One TLV: its tag, content and the whole encoding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tlv<'a> {
    pub(crate) tag: u8,
    pub(crate) content: &'a [u8],
    pub(crate) whole: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.data.first().copied()
    }

    /// Reads the next TLV.
    pub(crate) fn read(&mut self) -> Result<Tlv<'a>, DerError> {
        let (&tag, rest) = self.data.split_first().ok_or(DerError::Truncated)?;
        if tag & 0x1f == 0x1f {
            return Err(DerError::BadEncoding);
        }
        let (&first, rest) = rest.split_first().ok_or(DerError::Truncated)?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let n = usize::from(first & 0x7f);
            // 0x80 is the indefinite form (BER only); more than 3 length bytes is over 16 MiB.
            if n == 0 || n > 3 {
                return Err(DerError::BadEncoding);
            }
            let bytes = rest.get(..n).ok_or(DerError::Truncated)?;
            if bytes[0] == 0 {
                return Err(DerError::BadEncoding);
            }
            let len = bytes.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            if len < 0x80 {
                return Err(DerError::BadEncoding);
            }
            (len, &rest[n..])
        };
        let content = rest.get(..len).ok_or(DerError::Truncated)?;
        let header = self.data.len() - rest.len();
        let whole = &self.data[..header + len];
        self.data = &rest[len..];
        Ok(Tlv { tag, content, whole })
    }

    /// Reads the next TLV, which must have `tag`.
    pub(crate) fn expect(&mut self, tag: u8) -> Result<Tlv<'a>, DerError> {
        if self.peek_tag() != Some(tag) {
            return Err(if self.is_empty() { DerError::Truncated } else { DerError::UnexpectedTag });
        }
        self.read()
    }

    /// Reads the next TLV if it has `tag`.
    pub(crate) fn optional(&mut self, tag: u8) -> Result<Option<Tlv<'a>>, DerError> {
        if self.peek_tag() == Some(tag) { self.read().map(Some) } else { Ok(None) }
    }

    /// Fails unless everything was read.
    pub(crate) fn finish(&self) -> Result<(), DerError> {
        if self.is_empty() { Ok(()) } else { Err(DerError::TrailingData) }
    }
}

/// Reads exactly one TLV with `tag` from `data`, with nothing after it.
pub(crate) fn single(data: &[u8], tag: u8) -> Result<Tlv<'_>, DerError> {
    let mut r = Reader::new(data);
    let t = r.expect(tag)?;
    r.finish()?;
    Ok(t)
}

pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const OID: u8 = 0x06;
pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const ENUMERATED: u8 = 0x0a;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const GENERALIZED_TIME: u8 = 0x18;
pub(crate) const BOOLEAN: u8 = 0x01;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_refuses() {
        let mut r = Reader::new(&[0x04, 0x02, 1, 2, 0x05, 0x00]);
        let t = r.expect(OCTET_STRING).expect("octet string");
        assert_eq!((t.tag, t.content, t.whole.len()), (0x04, &[1u8, 2][..], 4));
        assert_eq!(r.expect(OCTET_STRING).unwrap_err(), DerError::UnexpectedTag);
        assert!(r.optional(0x05).expect("null").is_some());
        assert!(r.finish().is_ok());
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([0u8; 128]);
        assert_eq!(single(&long, OCTET_STRING).expect("long form").content.len(), 128);
        // Non-minimal, indefinite, truncated, multi-byte tag, trailing.
        assert_eq!(single(&[0x04, 0x81, 0x01, 0], 0x04).unwrap_err(), DerError::BadEncoding);
        assert_eq!(single(&[0x04, 0x82, 0x00, 0x81], 0x04).unwrap_err(), DerError::BadEncoding);
        assert_eq!(single(&[0x30, 0x80, 0, 0], 0x30).unwrap_err(), DerError::BadEncoding);
        assert_eq!(single(&[0x04, 0x03, 1], 0x04).unwrap_err(), DerError::Truncated);
        assert_eq!(single(&[0x1f, 0x01, 0x00], 0x1f).unwrap_err(), DerError::BadEncoding);
        assert_eq!(single(&[0x04, 0x00, 0x00], 0x04).unwrap_err(), DerError::TrailingData);
        assert_eq!(single(&[], 0x04).unwrap_err(), DerError::Truncated);
    }
}
