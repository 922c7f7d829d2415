//! Decoding the `.BTF` section's bytes.

use super::{Btf, Composite, Datasec, Enum, Int, Kind, Member, Type, VarSecinfo};

const MAGIC: u16 = 0xeb9f;

/// Reads a `.BTF` section. `little` is the object's byte order.
pub fn parse(data: &[u8], little: bool) -> Result<Btf, String> {
    let r = Reader { data, little };
    if r.u16(0)? != MAGIC {
        return Err("the .BTF section does not start with the BTF magic 0xeB9F".into());
    }
    let hdr_len = r.u32(4)? as usize;
    let (type_off, type_len) = (r.u32(8)? as usize, r.u32(12)? as usize);
    let (str_off, str_len) = (r.u32(16)? as usize, r.u32(20)? as usize);
    let types_at = hdr_len
        .checked_add(type_off)
        .ok_or("BTF type offset overflows")?;
    let strings_at = hdr_len
        .checked_add(str_off)
        .ok_or("BTF string offset overflows")?;
    let strings = data
        .get(strings_at..strings_at.saturating_add(str_len))
        .ok_or("the BTF string section lies outside .BTF")?;
    let end = types_at
        .checked_add(type_len)
        .ok_or("BTF type length overflows")?;
    if end > data.len() {
        return Err("the BTF type section lies outside .BTF".into());
    }

    let mut types = vec![Type {
        name: String::new(),
        kind: Kind::Void,
    }];
    let mut at = types_at;
    while at < end {
        let (ty, next) = r.read_type(at, strings)?;
        types.push(ty);
        at = next;
    }
    let btf = Btf { types };
    super::validate::validate(&btf)?;
    Ok(btf)
}

struct Reader<'a> {
    data: &'a [u8],
    little: bool,
}

impl Reader<'_> {
    fn bytes<const N: usize>(&self, at: usize) -> Result<[u8; N], String> {
        self.data
            .get(at..at + N)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| format!("BTF is cut short at byte {at}"))
    }

    fn u16(&self, at: usize) -> Result<u16, String> {
        let b = self.bytes::<2>(at)?;
        Ok(if self.little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    }

    fn u32(&self, at: usize) -> Result<u32, String> {
        let b = self.bytes::<4>(at)?;
        Ok(if self.little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    fn i32(&self, at: usize) -> Result<i32, String> {
        Ok(self.u32(at)? as i32)
    }

    /// Reads the type at `at`; returns it and where the next one starts.
    fn read_type(&self, at: usize, strings: &[u8]) -> Result<(Type, usize), String> {
        let name = string(strings, self.u32(at)?)?;
        let info = self.u32(at + 4)?;
        let size_or_type = self.u32(at + 8)?;
        let vlen = (info & 0xffff) as usize;
        let kind_flag = info >> 31 == 1;
        let body = at + 12;
        let (kind, body_len) = match (info >> 24) & 0x1f {
            1 => (Kind::Int(self.int(body, size_or_type)?), 4),
            2 => (Kind::Ptr(size_or_type), 0),
            3 => (
                Kind::Array {
                    elem: self.u32(body)?,
                    len: self.u32(body + 8)?,
                },
                12,
            ),
            4 => (
                Kind::Struct(self.composite(body, size_or_type, vlen, kind_flag, strings)?),
                12 * vlen,
            ),
            5 => (
                Kind::Union(self.composite(body, size_or_type, vlen, kind_flag, strings)?),
                12 * vlen,
            ),
            6 => (
                Kind::Enum(self.enum32(body, size_or_type, vlen, kind_flag, strings)?),
                8 * vlen,
            ),
            7 => (Kind::Fwd, 0),
            8 => (Kind::Typedef(size_or_type), 0),
            9 => (Kind::Volatile(size_or_type), 0),
            10 => (Kind::Const(size_or_type), 0),
            11 => (Kind::Restrict(size_or_type), 0),
            12 => (Kind::Func, 0),
            13 => (Kind::FuncProto, 8 * vlen),
            14 => (
                Kind::Var {
                    ty: size_or_type,
                    global: self.u32(body)? != 0,
                },
                4,
            ),
            15 => (
                Kind::Datasec(self.datasec(body, size_or_type, vlen)?),
                12 * vlen,
            ),
            16 => (Kind::Float { size: size_or_type }, 0),
            17 => (Kind::DeclTag, 4),
            18 => (Kind::TypeTag(size_or_type), 0),
            19 => (
                Kind::Enum(self.enum64(body, size_or_type, vlen, kind_flag, strings)?),
                12 * vlen,
            ),
            other => return Err(format!("BTF type `{name}` has an unknown kind {other}")),
        };
        Ok((Type { name, kind }, body + body_len))
    }

    fn int(&self, at: usize, size: u32) -> Result<Int, String> {
        let raw = self.u32(at)?;
        let encoding = (raw >> 24) & 0xf;
        Ok(Int {
            size,
            bits: raw & 0xff,
            offset: (raw >> 16) & 0xff,
            signed: encoding & 1 != 0,
            char: encoding & 2 != 0,
            bool: encoding & 4 != 0,
        })
    }

    fn composite(
        &self,
        at: usize,
        size: u32,
        vlen: usize,
        kind_flag: bool,
        strings: &[u8],
    ) -> Result<Composite, String> {
        let mut members = Vec::with_capacity(vlen);
        for i in 0..vlen {
            let m = at + 12 * i;
            let offset = self.u32(m + 8)?;
            // With kind_flag set, the top 8 bits hold the bitfield width.
            let (bit_offset, bitfield_size) = if kind_flag {
                (offset & 0x00ff_ffff, offset >> 24)
            } else {
                (offset, 0)
            };
            members.push(Member {
                name: string(strings, self.u32(m)?)?,
                ty: self.u32(m + 4)?,
                bit_offset,
                bitfield_size,
            });
        }
        Ok(Composite { size, members })
    }

    fn enum32(
        &self,
        at: usize,
        size: u32,
        vlen: usize,
        signed: bool,
        strings: &[u8],
    ) -> Result<Enum, String> {
        let mut values = Vec::with_capacity(vlen);
        for i in 0..vlen {
            let e = at + 8 * i;
            let value = if signed {
                i128::from(self.i32(e + 4)?)
            } else {
                i128::from(self.u32(e + 4)?)
            };
            values.push((string(strings, self.u32(e)?)?, value));
        }
        Ok(Enum {
            size,
            signed,
            values,
        })
    }

    fn enum64(
        &self,
        at: usize,
        size: u32,
        vlen: usize,
        signed: bool,
        strings: &[u8],
    ) -> Result<Enum, String> {
        let mut values = Vec::with_capacity(vlen);
        for i in 0..vlen {
            let e = at + 12 * i;
            let bits = u64::from(self.u32(e + 4)?) | (u64::from(self.u32(e + 8)?) << 32);
            let value = if signed {
                i128::from(bits as i64)
            } else {
                i128::from(bits)
            };
            values.push((string(strings, self.u32(e)?)?, value));
        }
        Ok(Enum {
            size,
            signed,
            values,
        })
    }

    fn datasec(&self, at: usize, size: u32, vlen: usize) -> Result<Datasec, String> {
        let mut vars = Vec::with_capacity(vlen);
        for i in 0..vlen {
            let v = at + 12 * i;
            vars.push(VarSecinfo {
                var: self.u32(v)?,
                offset: self.u32(v + 4)?,
            });
        }
        Ok(Datasec { size, vars })
    }
}

fn string(strings: &[u8], offset: u32) -> Result<String, String> {
    let tail = strings
        .get(offset as usize..)
        .ok_or_else(|| format!("BTF string offset {offset} lies outside the string section"))?;
    let len = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
    Ok(String::from_utf8_lossy(&tail[..len]).into_owned())
}
