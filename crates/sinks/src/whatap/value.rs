//! golib's wire primitives (`io/DataOutputX`) and the typed values
//! (`lang/value`) the one-way protocol carries. Everything appends to a
//! `Vec<u8>`: encoding is pure and cannot fail.

/// Value type bytes (golib `ValueEnum`).
pub const TYPE_NULL: u8 = 0;
pub const TYPE_BOOLEAN: u8 = 10;
pub const TYPE_DECIMAL: u8 = 20;
pub const TYPE_INT: u8 = 21;
pub const TYPE_LONG: u8 = 22;
pub const TYPE_FLOAT: u8 = 30;
pub const TYPE_DOUBLE: u8 = 40;
pub const TYPE_TEXT: u8 = 50;
pub const TYPE_MAP: u8 = 80;

/// A variable-length signed integer: a length byte (0, 1, 2, 3, 4, 5 or 8)
/// followed by that many big-endian bytes.
#[inline]
pub fn write_decimal(out: &mut Vec<u8>, v: i64) {
    let len = decimal_len(v);
    out.push(len as u8);
    // The `len` low bytes moved to the top, all 8 written, the rest cut:
    // fixed-size stores instead of a `memcpy` call of `len` bytes.
    let start = out.len();
    out.extend_from_slice(&v.wrapping_shl(8 * (8 - len as u32)).to_be_bytes());
    out.truncate(start + len);
}

/// How many bytes golib's `WriteDecimal` gives `v`: the fewest that hold it
/// as two's complement, except that 6 and 7 become 8 (and 0 takes none).
fn decimal_len(v: i64) -> usize {
    // Significant bits plus the sign bit.
    let bits = 65 - (v ^ (v >> 63)).leading_zeros() as usize;
    match bits.div_ceil(8) {
        _ if v == 0 => 0,
        6 | 7 => 8,
        n => n,
    }
}

/// A length-prefixed byte string: `00` when empty, one length byte up to
/// 253, `ff` + u16 up to 65535, `fe` + i32 beyond. The common short case
/// inline (the call and the long cases' register saves were ~30
/// instructions of a ~50-instruction write).
#[inline]
pub fn write_blob(out: &mut Vec<u8>, bytes: &[u8]) {
    match bytes.len() {
        n @ 0..=253 => out.push(n as u8),
        n => write_long_blob_len(out, n),
    }
    out.extend_from_slice(bytes);
}

#[inline(never)]
fn write_long_blob_len(out: &mut Vec<u8>, n: usize) {
    if n <= 65535 {
        out.push(0xff);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0xfe);
        // Records are bounded far below 2 GiB (CloudWatch events are
        // at most 256 KiB), so the i32 length cannot overflow.
        out.extend_from_slice(&(n as i32).to_be_bytes());
    }
}

/// UTF-8 text, written as a blob.
#[inline]
pub fn write_text(out: &mut Vec<u8>, text: &str) {
    write_blob(out, text.as_bytes());
}

/// A typed value. `Decimal` is the variable-length integer golib's `Put`
/// makes of every Go integer; `Int`, `Long`, `Float` and `Null` are the
/// fixed-width types a TagCountPack can also carry (golib `IntValue`,
/// `LongValue`, `FloatValue`, `NullValue`), needed to read and reproduce
/// every pack golib writes.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Text(String),
    Decimal(i64),
    Int(i32),
    Long(i64),
    Float(f32),
    Double(f64),
    Boolean(bool),
}

impl Value {
    /// Type byte followed by the payload.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Value::Null => out.push(TYPE_NULL),
            Value::Int(v) => {
                out.push(TYPE_INT);
                out.extend_from_slice(&v.to_be_bytes());
            }
            Value::Long(v) => {
                out.push(TYPE_LONG);
                out.extend_from_slice(&v.to_be_bytes());
            }
            // The IEEE-754 bits as they are: NaN payloads and -0.0 survive.
            Value::Float(v) => {
                out.push(TYPE_FLOAT);
                out.extend_from_slice(&v.to_bits().to_be_bytes());
            }
            Value::Boolean(b) => {
                out.push(TYPE_BOOLEAN);
                out.push(u8::from(*b));
            }
            Value::Decimal(v) => {
                out.push(TYPE_DECIMAL);
                write_decimal(out, *v);
            }
            Value::Double(v) => {
                out.push(TYPE_DOUBLE);
                out.extend_from_slice(&v.to_bits().to_be_bytes());
            }
            Value::Text(s) => {
                out.push(TYPE_TEXT);
                write_text(out, s);
            }
        }
    }
}

/// golib's `MapValue`: insertion-ordered; putting an existing key replaces
/// its value but keeps its first position.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValueMap(Vec<(String, Value)>);

impl ValueMap {
    pub fn new() -> Self {
        Self(Vec::new())
    }

    pub fn with_capacity(n: usize) -> Self {
        Self(Vec::with_capacity(n))
    }

    pub fn put(&mut self, key: impl Into<String>, value: Value) {
        let key = key.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn entries(&self) -> &[(String, Value)] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The map as a value: `0x50`, the entry count as a decimal, then each
    /// key as text followed by its value.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.push(TYPE_MAP);
        write_decimal(out, self.0.len() as i64);
        for (k, v) in &self.0 {
            write_text(out, k);
            v.write(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(v: i64) -> Vec<u8> {
        let mut out = Vec::new();
        write_decimal(&mut out, v);
        out
    }

    #[test]
    fn decimal_lengths() {
        assert_eq!(dec(0), [0]);
        assert_eq!(dec(-1), [1, 0xff]);
        assert_eq!(dec(128), [2, 0, 0x80]);
        assert_eq!(dec(1 << 40).len(), 9);
        assert_eq!(dec(-(1 << 39)), [5, 0x80, 0, 0, 0, 0]);
    }

    /// The computed length agrees with golib's range-by-range choice at
    /// every boundary and around it, for both signs.
    #[test]
    fn decimal_lengths_match_the_ranges() {
        let by_range = |v: i64| -> usize {
            match v {
                0 => 0,
                -0x80..=0x7f => 1,
                -0x8000..=0x7fff => 2,
                -0x80_0000..=0x7f_ffff => 3,
                -0x8000_0000..=0x7fff_ffff => 4,
                -0x80_0000_0000..=0x7f_ffff_ffff => 5,
                _ => 8,
            }
        };
        let mut values = vec![i64::MIN, i64::MAX, 0];
        for shift in 0..64 {
            let p = 1i64.wrapping_shl(shift);
            for d in -2..=2 {
                values.extend([p.wrapping_add(d), p.wrapping_neg().wrapping_add(d)]);
            }
        }
        for v in values {
            let len = by_range(v);
            let mut want = vec![len as u8];
            want.extend_from_slice(&v.to_be_bytes()[8 - len..]);
            assert_eq!(dec(v), want, "{v}");
        }
    }

    #[test]
    fn blob_lengths() {
        let mut out = Vec::new();
        write_blob(&mut out, &[7; 253]);
        assert_eq!(&out[..2], [253, 7]);
        out.clear();
        write_blob(&mut out, &[]);
        assert_eq!(out, [0]);
        out.clear();
        write_blob(&mut out, &[7; 254]);
        assert_eq!(&out[..3], [0xff, 0, 254]);
        out.clear();
        write_blob(&mut out, &[7; 65535]);
        assert_eq!(&out[..3], [0xff, 0xff, 0xff]);
        out.clear();
        write_blob(&mut out, &[7; 65536]);
        assert_eq!(&out[..5], [0xfe, 0, 1, 0, 0]);
    }

    #[test]
    fn fixed_width_values() {
        let bytes = |v: Value| {
            let mut out = Vec::new();
            v.write(&mut out);
            out
        };
        assert_eq!(bytes(Value::Null), [0]);
        assert_eq!(bytes(Value::Int(-7)), [21, 0xff, 0xff, 0xff, 0xf9]);
        assert_eq!(bytes(Value::Long(1)), [22, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(bytes(Value::Float(-7.25)), [30, 0xc0, 0xe8, 0, 0]);
        assert_eq!(bytes(Value::Float(-0.0)), [30, 0x80, 0, 0, 0]);
    }

    #[test]
    fn map_put_keeps_first_position() {
        let mut m = ValueMap::new();
        m.put("a", Value::Decimal(1));
        m.put("b", Value::Decimal(2));
        m.put("a", Value::Text("x".into()));
        assert_eq!(m.entries()[0], ("a".to_owned(), Value::Text("x".into())));
        let mut out = Vec::new();
        ValueMap::new().write(&mut out);
        assert_eq!(out, [0x50, 0]);
    }
}
