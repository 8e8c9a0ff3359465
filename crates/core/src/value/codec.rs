//! The compact binary storage form of items: a version byte, then
//! tag-length-value entries with LEB128 lengths and numbers stored as
//! (exponent, coefficient) varints. Decoding checks everything and never
//! panics, whatever the bytes.

use std::fmt;

use super::{AttributeValue, Item};
use crate::number::Number;

/// First byte of every encoded item; bump when the layout changes.
pub const CODEC_VERSION: u8 = 1;

/// Deeper values are refused on decode (DynamoDB itself allows 32 levels);
/// bounds recursion on hostile input.
const MAX_DECODE_DEPTH: usize = 64;

const TAG_S: u8 = 0x01;
const TAG_N: u8 = 0x02;
const TAG_B: u8 = 0x03;
const TAG_FALSE: u8 = 0x04;
const TAG_TRUE: u8 = 0x05;
const TAG_NULL: u8 = 0x06;
const TAG_M: u8 = 0x07;
const TAG_L: u8 = 0x08;
const TAG_SS: u8 = 0x09;
const TAG_NS: u8 = 0x0A;
const TAG_BS: u8 = 0x0B;

/// Bytes that are not a valid encoded item or value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecError {
    /// Offset in the input where decoding stopped.
    pub offset: usize,
    pub reason: &'static str,
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "corrupt stored item at byte {}: {}",
            self.offset, self.reason
        )
    }
}

impl std::error::Error for CodecError {}

fn put_varint(out: &mut Vec<u8>, mut v: u128) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u128);
    out.extend_from_slice(b);
}

fn zigzag(v: i32) -> u128 {
    (((v as i64) << 1) ^ ((v as i64) >> 63)) as u64 as u128
}

fn put_number(out: &mut Vec<u8>, n: &Number) {
    put_varint(out, zigzag(n.exponent()));
    // coefficient < 10^38 < 2^127, so the sign fits in the low bit.
    put_varint(out, (n.coefficient() << 1) | n.is_negative() as u128);
}

/// Appends the encoding of one value.
pub fn encode_value_into(v: &AttributeValue, out: &mut Vec<u8>) {
    match v {
        AttributeValue::S(s) => {
            out.push(TAG_S);
            put_bytes(out, s.as_bytes());
        }
        AttributeValue::N(n) => {
            out.push(TAG_N);
            put_number(out, n);
        }
        AttributeValue::B(b) => {
            out.push(TAG_B);
            put_bytes(out, b);
        }
        AttributeValue::Bool(false) => out.push(TAG_FALSE),
        AttributeValue::Bool(true) => out.push(TAG_TRUE),
        AttributeValue::Null => out.push(TAG_NULL),
        AttributeValue::M(m) => {
            out.push(TAG_M);
            put_map(m, out);
        }
        AttributeValue::L(l) => {
            out.push(TAG_L);
            put_varint(out, l.len() as u128);
            for v in l {
                encode_value_into(v, out);
            }
        }
        AttributeValue::SS(ss) => {
            out.push(TAG_SS);
            put_varint(out, ss.len() as u128);
            for s in ss {
                put_bytes(out, s.as_bytes());
            }
        }
        AttributeValue::NS(ns) => {
            out.push(TAG_NS);
            put_varint(out, ns.len() as u128);
            for n in ns {
                put_number(out, n);
            }
        }
        AttributeValue::BS(bs) => {
            out.push(TAG_BS);
            put_varint(out, bs.len() as u128);
            for b in bs {
                put_bytes(out, b);
            }
        }
    }
}

fn put_map(m: &Item, out: &mut Vec<u8>) {
    put_varint(out, m.len() as u128);
    for (name, v) in m {
        put_bytes(out, name.as_bytes());
        encode_value_into(v, out);
    }
}

/// Appends the encoding of an item.
pub fn encode_item_into(item: &Item, out: &mut Vec<u8>) {
    out.push(CODEC_VERSION);
    put_map(item, out);
}

pub fn encode_item(item: &Item) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    encode_item_into(item, &mut out);
    out
}

/// Decodes an item written by [`encode_item`]; the whole input must be used.
pub fn decode_item(bytes: &[u8]) -> Result<Item, CodecError> {
    let mut r = Reader { bytes, pos: 0 };
    if r.byte()? != CODEC_VERSION {
        return Err(r.fail_at(0, "unknown codec version"));
    }
    let item = r.map(0)?;
    r.finish()?;
    Ok(item)
}

/// Decodes a single value written by [`encode_value_into`].
pub fn decode_value(bytes: &[u8]) -> Result<AttributeValue, CodecError> {
    let mut r = Reader { bytes, pos: 0 };
    let v = r.value(0)?;
    r.finish()?;
    Ok(v)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn fail(&self, reason: &'static str) -> CodecError {
        CodecError {
            offset: self.pos,
            reason,
        }
    }

    fn fail_at(&self, offset: usize, reason: &'static str) -> CodecError {
        CodecError { offset, reason }
    }

    fn finish(&self) -> Result<(), CodecError> {
        if self.pos == self.bytes.len() {
            Ok(())
        } else {
            Err(self.fail("trailing bytes"))
        }
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn byte(&mut self) -> Result<u8, CodecError> {
        let b = *self
            .bytes
            .get(self.pos)
            .ok_or_else(|| self.fail("unexpected end"))?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self, max_bits: u32) -> Result<u128, CodecError> {
        let start = self.pos;
        let mut v: u128 = 0;
        let mut shift = 0u32;
        loop {
            let b = self.byte()?;
            let chunk = (b & 0x7f) as u128;
            if shift >= max_bits || (shift > 0 && chunk >> (max_bits - shift).min(127) != 0) {
                return Err(self.fail_at(start, "varint too large"));
            }
            v |= chunk << shift;
            if b & 0x80 == 0 {
                // One encoding per value: no redundant high zero groups.
                if b == 0 && shift > 0 {
                    return Err(self.fail_at(start, "overlong varint"));
                }
                return Ok(v);
            }
            shift += 7;
        }
    }

    /// A count of elements, each taking at least one byte.
    fn count(&mut self) -> Result<usize, CodecError> {
        let start = self.pos;
        let n = self.varint(64)?;
        if n > self.remaining() as u128 {
            return Err(self.fail_at(start, "count exceeds input"));
        }
        Ok(n as usize)
    }

    fn slice(&mut self) -> Result<&'a [u8], CodecError> {
        let start = self.pos;
        let n = self.varint(64)?;
        if n > self.remaining() as u128 {
            return Err(self.fail_at(start, "length exceeds input"));
        }
        let s = &self.bytes[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }

    fn string(&mut self) -> Result<String, CodecError> {
        let start = self.pos;
        let s = self.slice()?;
        std::str::from_utf8(s)
            .map(str::to_owned)
            .map_err(|_| self.fail_at(start, "invalid UTF-8"))
    }

    fn number(&mut self) -> Result<Number, CodecError> {
        let start = self.pos;
        let zz = self.varint(64)? as u64;
        let exponent = ((zz >> 1) as i64) ^ -((zz & 1) as i64);
        let packed = self.varint(128)?;
        let negative = packed & 1 == 1;
        let coefficient = packed >> 1;
        let exponent = i32::try_from(exponent).map_err(|_| self.fail_at(start, "bad number"))?;
        match Number::from_parts(negative, coefficient, exponent) {
            // Only the canonical encoding of each number is accepted.
            Ok(n)
                if n.coefficient() == coefficient
                    && n.exponent() == exponent
                    && n.is_negative() == negative =>
            {
                Ok(n)
            }
            _ => Err(self.fail_at(start, "bad number")),
        }
    }

    fn map(&mut self, depth: usize) -> Result<Item, CodecError> {
        let n = self.count()?;
        let mut m = Item::new();
        for _ in 0..n {
            let start = self.pos;
            let name = self.string()?;
            let v = self.value(depth + 1)?;
            if m.insert(name, v).is_some() {
                return Err(self.fail_at(start, "duplicate attribute name"));
            }
        }
        Ok(m)
    }

    fn value(&mut self, depth: usize) -> Result<AttributeValue, CodecError> {
        if depth > MAX_DECODE_DEPTH {
            return Err(self.fail("nesting too deep"));
        }
        let start = self.pos;
        Ok(match self.byte()? {
            TAG_S => AttributeValue::S(self.string()?),
            TAG_N => AttributeValue::N(self.number()?),
            TAG_B => AttributeValue::B(self.slice()?.to_vec()),
            TAG_FALSE => AttributeValue::Bool(false),
            TAG_TRUE => AttributeValue::Bool(true),
            TAG_NULL => AttributeValue::Null,
            TAG_M => AttributeValue::M(self.map(depth)?),
            TAG_L => {
                let n = self.count()?;
                let mut l = Vec::with_capacity(n);
                for _ in 0..n {
                    l.push(self.value(depth + 1)?);
                }
                AttributeValue::L(l)
            }
            TAG_SS => {
                let n = self.count()?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(self.string()?);
                }
                AttributeValue::SS(v)
            }
            TAG_NS => {
                let n = self.count()?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(self.number()?);
                }
                AttributeValue::NS(v)
            }
            TAG_BS => {
                let n = self.count()?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(self.slice()?.to_vec());
                }
                AttributeValue::BS(v)
            }
            _ => return Err(self.fail_at(start, "unknown value tag")),
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::value::test_support::arb_item;

    fn num(s: &str) -> AttributeValue {
        AttributeValue::N(Number::parse(s).unwrap())
    }

    #[test]
    fn round_trips_every_type() {
        let mut inner = Item::new();
        inner.insert("x".into(), AttributeValue::Null);
        let mut item = Item::new();
        item.insert("s".into(), AttributeValue::S("héllo".into()));
        item.insert("n".into(), num("-123.456e-7"));
        item.insert("z".into(), num("0"));
        item.insert(
            "big".into(),
            num("9.9999999999999999999999999999999999999E+125"),
        );
        item.insert("tiny".into(), num("-1e-130"));
        item.insert("b".into(), AttributeValue::B(vec![0, 255, 7]));
        item.insert("t".into(), AttributeValue::Bool(true));
        item.insert("f".into(), AttributeValue::Bool(false));
        item.insert("m".into(), AttributeValue::M(inner));
        item.insert(
            "l".into(),
            AttributeValue::L(vec![num("1"), AttributeValue::S(String::new())]),
        );
        item.insert(
            "ss".into(),
            AttributeValue::SS(vec!["b".into(), "a".into()]),
        );
        item.insert(
            "ns".into(),
            AttributeValue::NS(vec![
                Number::parse("1").unwrap(),
                Number::parse("-2.5").unwrap(),
            ]),
        );
        item.insert("bs".into(), AttributeValue::BS(vec![vec![], vec![1]]));
        let bytes = encode_item(&item);
        assert_eq!(decode_item(&bytes), Ok(item));
        // Small numbers are small.
        let mut one = Vec::new();
        encode_value_into(&num("1"), &mut one);
        assert_eq!(one.len(), 3);
    }

    #[test]
    fn rejects_damage() {
        let mut item = Item::new();
        item.insert("a".into(), AttributeValue::S("xyz".into()));
        item.insert("n".into(), num("12.5"));
        let bytes = encode_item(&item);
        for cut in 0..bytes.len() {
            assert!(decode_item(&bytes[..cut]).is_err(), "prefix {cut}");
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(decode_item(&extra).is_err());
        assert!(decode_item(&[]).is_err());
        assert!(decode_item(&[2, 0]).is_err());
        // A non-canonical number (trailing zero in the coefficient).
        assert!(decode_value(&[TAG_N, 0, 20 << 1]).is_err());
        // A huge count.
        assert!(decode_item(&[1, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
        // Deep nesting.
        let mut deep = [TAG_L, 1].repeat(10_000);
        deep.push(TAG_NULL);
        assert!(decode_value(&deep).is_err());
    }

    proptest! {
        #[test]
        fn round_trip(item in arb_item()) {
            let bytes = encode_item(&item);
            prop_assert_eq!(decode_item(&bytes), Ok(item));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode_item(&bytes);
            let _ = decode_value(&bytes);
        }

        #[test]
        fn mutated_items_never_panic(item in arb_item(), pos in any::<usize>(), byte in any::<u8>()) {
            let mut bytes = encode_item(&item);
            let i = pos % bytes.len();
            bytes[i] = byte;
            let _ = decode_item(&bytes);
        }
    }
}
