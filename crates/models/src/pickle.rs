//! Reads a `state_dict` saved by `torch.save(model.state_dict(), FILE)`: a zip archive whose
//! `data.pkl` is a pickle (protocol 2) of an `OrderedDict` of tensors, each rebuilt by
//! `torch._utils._rebuild_tensor_v2` from a storage stored raw (little-endian) in
//! `data/<key>`. Only that subset of pickle is understood — no code is run, an unknown global
//! is data, not a call — so a file that is anything else is refused with what was found.
//!
//! Hand-written because libtorch's C++ loader (what tch exposes) reads TorchScript and C++
//! archives but not Python's pickles, and a general unpickler would execute arbitrary code.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use crate::error::ModelError;

#[derive(Debug, Clone, PartialEq)]
enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    Global(String, String),
    Storage {
        kind: String,
        key: String,
    },
    Tensor(Tensor),
    /// The result of a call we do not model (kept as its callable's name).
    Object(String),
    Mark,
}

#[derive(Debug, Clone, PartialEq)]
struct Tensor {
    kind: String,
    key: String,
    offset: usize,
    size: Vec<usize>,
    stride: Vec<usize>,
}

struct Machine<'a> {
    code: &'a [u8],
    at: usize,
    stack: Vec<Value>,
    memo: BTreeMap<u32, Value>,
    /// Values copied by memo look-ups so far.
    copied: usize,
}

type Fail = String;

/// The deepest nesting a value may reach: a state dict's is about five (dict, the rebuild
/// call's argument tuple, its size tuple). Deeper is refused before it is built, so nothing
/// recursive over a value (clone, drop) can overflow the stack.
const MAX_DEPTH: usize = 64;

/// The most values memo look-ups may copy in all (a pickle's "billion laughs").
const MAX_COPIED: usize = 1_000_000;

/// A value's nesting depth and how many values it holds, without recursion.
fn measure(v: &Value) -> (usize, usize) {
    let (mut depth, mut count) = (0, 0);
    let mut todo = vec![(v, 1usize)];
    while let Some((v, d)) = todo.pop() {
        count += 1;
        depth = depth.max(d);
        match v {
            Value::Tuple(items) | Value::List(items) => {
                todo.extend(items.iter().map(|i| (i, d + 1)))
            }
            Value::Dict(entries) => {
                for (k, x) in entries {
                    todo.push((k, d + 1));
                    todo.push((x, d + 1));
                }
            }
            _ => {}
        }
    }
    (depth, count)
}

/// Refuses a value that would nest too deep once put inside a container.
fn nestable(v: &Value) -> Result<(), Fail> {
    if measure(v).0 >= MAX_DEPTH {
        return Err(format!(
            "values nested deeper than {MAX_DEPTH} levels: not a state dict"
        ));
    }
    Ok(())
}

fn nestable_all<'v>(items: impl IntoIterator<Item = &'v Value>) -> Result<(), Fail> {
    items.into_iter().try_for_each(nestable)
}

impl Machine<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], Fail> {
        let end = self.at + n;
        let s = self.code.get(self.at..end).ok_or("the pickle ends early")?;
        self.at = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, Fail> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, Fail> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn line(&mut self) -> Result<String, Fail> {
        let rest = &self.code[self.at..];
        let n = rest
            .iter()
            .position(|&c| c == b'\n')
            .ok_or("unterminated GLOBAL")?;
        let s = String::from_utf8_lossy(&rest[..n]).into_owned();
        self.at += n + 1;
        Ok(s)
    }

    fn pop(&mut self) -> Result<Value, Fail> {
        self.stack
            .pop()
            .ok_or_else(|| "the pickle's stack underflows".into())
    }

    fn pop_mark(&mut self) -> Result<Vec<Value>, Fail> {
        let mark = self
            .stack
            .iter()
            .rposition(|v| *v == Value::Mark)
            .ok_or("no MARK")?;
        let items = self.stack.split_off(mark + 1);
        self.stack.pop();
        Ok(items)
    }

    fn top(&mut self) -> Result<&mut Value, Fail> {
        self.stack.last_mut().ok_or_else(|| "empty stack".into())
    }

    fn run(&mut self) -> Result<Value, Fail> {
        loop {
            let op = self.u8()?;
            match op {
                0x80 => {
                    self.u8()?; // PROTO
                }
                0x95 => {
                    self.take(8)?; // FRAME
                }
                b'.' => return self.pop(),
                b'}' => self.stack.push(Value::Dict(Vec::new())),
                b']' => self.stack.push(Value::List(Vec::new())),
                b')' => self.stack.push(Value::Tuple(Vec::new())),
                b'(' => self.stack.push(Value::Mark),
                b'N' => self.stack.push(Value::None),
                0x88 => self.stack.push(Value::Bool(true)),
                0x89 => self.stack.push(Value::Bool(false)),
                b'K' => {
                    let v = self.u8()?;
                    self.stack.push(Value::Int(i64::from(v)));
                }
                b'M' => {
                    let b = self.take(2)?;
                    let v = u16::from_le_bytes([b[0], b[1]]);
                    self.stack.push(Value::Int(i64::from(v)));
                }
                b'J' => {
                    let v = self.u32()? as i32;
                    self.stack.push(Value::Int(i64::from(v)));
                }
                0x8a => {
                    let n = self.u8()? as usize;
                    let b = self.take(n)?.to_vec();
                    if n > 8 {
                        return Err("an integer wider than 64 bits".into());
                    }
                    let mut buf = [if b.last().is_some_and(|x| x & 0x80 != 0) {
                        0xff
                    } else {
                        0
                    }; 8];
                    buf[..n].copy_from_slice(&b);
                    self.stack.push(Value::Int(i64::from_le_bytes(buf)));
                }
                b'G' => {
                    let b = self.take(8)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(b);
                    self.stack.push(Value::Float(f64::from_be_bytes(a)));
                }
                b'X' | 0x8c | b'U' | b'T' | 0x8d => {
                    let n = match op {
                        0x8c | b'U' => self.u8()? as usize,
                        0x8d => {
                            let b = self.take(8)?;
                            let mut a = [0u8; 8];
                            a.copy_from_slice(b);
                            u64::from_le_bytes(a) as usize
                        }
                        _ => self.u32()? as usize,
                    };
                    let s = String::from_utf8_lossy(self.take(n)?).into_owned();
                    self.stack.push(Value::Str(s));
                }
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    self.stack.push(Value::Global(module, name));
                }
                0x93 => {
                    // STACK_GLOBAL
                    let name = self.pop()?;
                    let module = self.pop()?;
                    match (module, name) {
                        (Value::Str(m), Value::Str(n)) => self.stack.push(Value::Global(m, n)),
                        _ => return Err("STACK_GLOBAL without strings".into()),
                    }
                }
                b'q' => {
                    let i = u32::from(self.u8()?);
                    let v = self.top()?.clone();
                    self.memo.insert(i, v);
                }
                b'r' => {
                    let i = self.u32()?;
                    let v = self.top()?.clone();
                    self.memo.insert(i, v);
                }
                0x94 => {
                    let i = self.memo.len() as u32;
                    let v = self.top()?.clone();
                    self.memo.insert(i, v);
                }
                b'h' | b'j' => {
                    let i = if op == b'h' {
                        u32::from(self.u8()?)
                    } else {
                        self.u32()?
                    };
                    let v = self.memo.get(&i).ok_or("a memo entry is missing")?;
                    // Copies are counted before they are made.
                    self.copied = self.copied.saturating_add(measure(v).1);
                    if self.copied > MAX_COPIED {
                        return Err(format!(
                            "memo look-ups copy more than {MAX_COPIED} values: not a state dict"
                        ));
                    }
                    let v = v.clone();
                    self.stack.push(v);
                }
                b't' => {
                    let items = self.pop_mark()?;
                    nestable_all(&items)?;
                    self.stack.push(Value::Tuple(items));
                }
                0x85..=0x87 => {
                    let n = (op - 0x84) as usize;
                    let at = self.stack.len().checked_sub(n).ok_or("stack underflow")?;
                    let items = self.stack.split_off(at);
                    nestable_all(&items)?;
                    self.stack.push(Value::Tuple(items));
                }
                b'a' => {
                    let v = self.pop()?;
                    nestable(&v)?;
                    if let Value::List(l) = self.top()? {
                        l.push(v);
                    }
                }
                b'e' => {
                    let items = self.pop_mark()?;
                    nestable_all(&items)?;
                    if let Value::List(l) = self.top()? {
                        l.extend(items);
                    }
                }
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    nestable_all([&k, &v])?;
                    if let Value::Dict(d) = self.top()? {
                        d.push((k, v));
                    }
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    nestable_all(&items)?;
                    if let Value::Dict(d) = self.top()? {
                        let mut it = items.into_iter();
                        while let (Some(k), Some(v)) = (it.next(), it.next()) {
                            d.push((k, v));
                        }
                    }
                }
                b'Q' => {
                    let pid = self.pop()?;
                    self.stack.push(persistent(pid)?);
                }
                b'R' | 0x81 => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    nestable(&args)?;
                    self.stack.push(reduce(callable, args)?);
                }
                b'b' => {
                    // BUILD: the state of an OrderedDict is its `_metadata`; not needed.
                    self.pop()?;
                }
                other => {
                    return Err(format!(
                        "pickle opcode 0x{other:02x} at byte {} is not part of a state dict",
                        self.at - 1
                    ));
                }
            }
        }
    }
}

fn persistent(pid: Value) -> Result<Value, Fail> {
    let Value::Tuple(t) = pid else {
        return Err("a persistent id that is not a tuple".into());
    };
    match t.as_slice() {
        [Value::Str(tag), Value::Global(_, kind), Value::Str(key), ..] if tag == "storage" => {
            Ok(Value::Storage {
                kind: kind.clone(),
                key: key.clone(),
            })
        }
        _ => Err(format!("an unknown persistent id {t:?}")),
    }
}

fn ints(v: &Value) -> Result<Vec<usize>, Fail> {
    match v {
        Value::Tuple(items) | Value::List(items) => items
            .iter()
            .map(|i| match i {
                Value::Int(n) if *n >= 0 => Ok(*n as usize),
                other => Err(format!("a size or stride of {other:?}")),
            })
            .collect(),
        other => Err(format!("a size or stride of {other:?}")),
    }
}

fn reduce(callable: Value, args: Value) -> Result<Value, Fail> {
    let Value::Global(module, name) = callable else {
        return Err("a call of something that is not a global".into());
    };
    let args = match args {
        Value::Tuple(a) => a,
        _ => Vec::new(),
    };
    match (module.as_str(), name.as_str()) {
        ("collections", "OrderedDict") => Ok(Value::Dict(Vec::new())),
        ("torch._utils", "_rebuild_tensor_v2" | "_rebuild_tensor") => {
            let [
                Value::Storage { kind, key },
                Value::Int(offset),
                size,
                stride,
                ..,
            ] = args.as_slice()
            else {
                return Err(format!("{module}.{name} with arguments {args:?}"));
            };
            Ok(Value::Tensor(Tensor {
                kind: kind.clone(),
                key: key.clone(),
                offset: (*offset).max(0) as usize,
                size: ints(size)?,
                stride: ints(stride)?,
            }))
        }
        ("torch._utils", "_rebuild_parameter" | "_rebuild_parameter_with_state") => args
            .into_iter()
            .next()
            .ok_or_else(|| "_rebuild_parameter without a tensor".into()),
        _ => Ok(Value::Object(format!("{module}.{name}"))),
    }
}

/// Reads one little-endian element as f32.
type Decode = fn(&[u8]) -> f32;

fn element(kind: &str) -> Result<(usize, Decode), Fail> {
    Ok(match kind {
        "FloatStorage" => (4, |b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        "DoubleStorage" => (8, |b| {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            f64::from_le_bytes(a) as f32
        }),
        "HalfStorage" => (2, |b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()),
        "BFloat16Storage" => (2, |b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32()),
        other => return Err(format!("tensors of {other} are not weights")),
    })
}

/// Reads the state dict in `path` and returns it as float32 safetensors with the same keys.
///
/// # Errors
/// [`ModelError::Format`] naming the file and what was not a state dict.
pub fn pt_to_safetensors(path: &Path) -> Result<Vec<u8>, ModelError> {
    let format = |reason: String| ModelError::Format {
        path: path.to_path_buf(),
        source: format!("not a state dict saved with torch.save(model.state_dict(), …): {reason}")
            .into(),
    };
    let file = std::fs::File::open(path).map_err(|e| ModelError::Io {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    let file_len = file.metadata().map(|m| m.len()).unwrap_or(0);
    crate::import::check_weights_size(path, file_len)?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| format(e.to_string()))?;
    let pkl = (0..zip.len())
        .filter_map(|i| zip.by_index(i).ok().map(|f| f.name().to_string()))
        .find(|n| n.ends_with("data.pkl"))
        .ok_or_else(|| format("no data.pkl in the archive".into()))?;
    let prefix = pkl.trim_end_matches("data.pkl").to_string();
    let mut read = |name: &str| -> Result<Vec<u8>, ModelError> {
        let mut f = zip
            .by_name(name)
            .map_err(|e| format(format!("{name}: {e}")))?;
        // torch.save stores its entries uncompressed: none can be larger than the archive.
        // Checked before anything is allocated, and the read is capped in case the header lies.
        if f.size() > file_len {
            return Err(format(format!(
                "{name} claims {} bytes, more than the whole file ({file_len} bytes)",
                f.size()
            )));
        }
        let mut out = Vec::with_capacity(f.size() as usize);
        (&mut f)
            .take(file_len)
            .read_to_end(&mut out)
            .map_err(|e| format(format!("{name}: {e}")))?;
        Ok(out)
    };
    let code = read(&pkl)?;
    let mut m = Machine {
        code: &code,
        at: 0,
        stack: Vec::new(),
        memo: BTreeMap::new(),
        copied: 0,
    };
    let Value::Dict(entries) = m.run().map_err(format)? else {
        return Err(format("the pickle holds no dictionary".into()));
    };
    let mut host: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (k, v) in entries {
        let (Value::Str(name), Value::Tensor(t)) = (k, v) else {
            return Err(format("an entry that is not a named tensor".into()));
        };
        let (width, decode) = element(&t.kind).map_err(|e| format(format!("`{name}`: {e}")))?;
        let raw = read(&format!("{prefix}data/{}", t.key))?;
        // The last element the view reaches must lie in the storage: checked (without
        // overflow) before the output is allocated.
        let elements = raw.len() / width;
        let reach = t
            .size
            .iter()
            .zip(&t.stride)
            .try_fold(t.offset, |acc, (n, st)| {
                n.checked_sub(1).map_or(Some(acc), |n| {
                    n.checked_mul(*st).and_then(|x| acc.checked_add(x))
                })
            });
        let count = t.size.iter().try_fold(1usize, |acc, n| acc.checked_mul(*n));
        let (Some(reach), Some(count)) = (reach, count) else {
            return Err(format(format!("`{name}` has a size that overflows")));
        };
        // A zero stride repeats elements: a few bytes of storage could claim terabytes. A
        // state dict's tensors never do, so no tensor may hold more elements than its storage.
        if count > elements {
            return Err(format(format!(
                "`{name}` claims {count} elements from a storage of {elements} (a broadcast view; save a contiguous copy)"
            )));
        }
        if count > 0 && reach >= elements {
            return Err(format(format!(
                "`{name}` claims {count} elements (up to element {reach}) of a storage of {elements}"
            )));
        }
        let mut values = Vec::with_capacity(count * 4);
        let mut index = vec![0usize; t.size.len()];
        for _ in 0..count {
            let at = t.offset
                + index
                    .iter()
                    .zip(&t.stride)
                    .map(|(i, s)| i * s)
                    .sum::<usize>();
            let bytes = raw
                .get(at * width..(at + 1) * width)
                .ok_or_else(|| format(format!("`{name}` reaches past its storage")))?;
            values.extend_from_slice(&decode(bytes).to_le_bytes());
            for d in (0..index.len()).rev() {
                index[d] += 1;
                if index[d] < t.size[d] {
                    break;
                }
                index[d] = 0;
            }
        }
        host.push((name, t.size, values));
    }
    if host.is_empty() {
        return Err(format("it holds no tensors".into()));
    }
    crate::import::f32_safetensors(&host).map_err(format)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn unicode(s: &str) -> Vec<u8> {
        let mut out = vec![b'X'];
        out.extend((s.len() as u32).to_le_bytes());
        out.extend(s.as_bytes());
        out
    }

    /// `{"w": tensor(size, stride) over storage "0"}` as a protocol-2 pickle.
    fn state_dict_pickle(size: u8, stride: u8) -> Vec<u8> {
        let mut p = vec![0x80, 2, b'}'];
        p.extend(unicode("w"));
        p.extend(b"ctorch._utils\n_rebuild_tensor_v2\n(");
        p.push(b'(');
        p.extend(unicode("storage"));
        p.extend(b"ctorch\nFloatStorage\n");
        p.extend(unicode("0"));
        p.extend(unicode("cpu"));
        p.extend([b'K', 2, b't', b'Q']);
        p.extend([b'K', 0, b'K', size, 0x85, b'K', stride, 0x85, 0x89]);
        p.extend(b"ccollections\nOrderedDict\n)R");
        p.extend([b't', b'R', b's', b'.']);
        p
    }

    fn archive(dir: &Path, entries: &[(&str, &[u8])]) -> std::path::PathBuf {
        let path = dir.join("m.pt");
        let mut z = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let opts =
            zip::write::FileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for (name, bytes) in entries {
            z.start_file(*name, opts).unwrap();
            z.write_all(bytes).unwrap();
        }
        z.finish().unwrap();
        path
    }

    #[test]
    fn a_small_state_dict_reads_and_hostile_ones_are_refused_before_allocating() {
        let dir = tempfile::tempdir().unwrap();
        let storage: Vec<u8> = [1.0f32, 2.0].iter().flat_map(|x| x.to_le_bytes()).collect();
        let ok = archive(
            dir.path(),
            &[
                ("m/data.pkl", &state_dict_pickle(2, 1)),
                ("m/data/0", &storage),
            ],
        );
        let st = pt_to_safetensors(&ok).unwrap();
        let t = safetensors::SafeTensors::deserialize(&st).unwrap();
        assert_eq!(t.tensor("w").unwrap().shape(), [2]);
        // A tensor that claims more elements than its storage holds (a 4 TiB claim is the
        // same check): refused, nothing allocated for it.
        let big = archive(
            dir.path(),
            &[
                ("m/data.pkl", &state_dict_pickle(200, 1)),
                ("m/data/0", &storage),
            ],
        );
        let err = pt_to_safetensors(&big).unwrap_err().to_string();
        assert!(err.contains("claims 200 elements"), "{err}");
        // Nesting deeper than a state dict ever is: refused before the stack can overflow.
        let n = 100_000;
        let mut deep = vec![0x80, 2];
        deep.extend(std::iter::repeat_n(b']', n));
        deep.extend(std::iter::repeat_n(b'a', n - 1));
        deep.push(b'.');
        let nested = archive(dir.path(), &[("m/data.pkl", &deep)]);
        let err = pt_to_safetensors(&nested).unwrap_err().to_string();
        assert!(err.contains("nested deeper than 64"), "{err}");
        // Memo copies of copies: counted and refused.
        let mut laughs = vec![0x80, 2, b']', b'K', 1, b'a', b'q', 0];
        for i in 0..40u8 {
            laughs.extend([b']', b'h', i, b'a', b'h', i, b'a', b'q', i + 1]);
        }
        laughs.push(b'.');
        let bomb = archive(dir.path(), &[("m/data.pkl", &laughs)]);
        let err = pt_to_safetensors(&bomb).unwrap_err().to_string();
        assert!(err.contains("copy more than"), "{err}");
        // A zero stride: 2^40 elements from a storage of two.
        let mut broadcast = state_dict_pickle(0xAB, 0);
        let at = broadcast
            .windows(3)
            .position(|w| w == [b'K', 0xAB, 0x85])
            .unwrap();
        // BININT (a signed 32-bit int, little-endian): 2^24.
        broadcast.splice(at..at + 2, [b'J', 0, 0, 0, 1]);
        let wide = archive(
            dir.path(),
            &[("m/data.pkl", &broadcast), ("m/data/0", &storage)],
        );
        let err = pt_to_safetensors(&wide).unwrap_err().to_string();
        assert!(
            err.contains("claims 16777216 elements from a storage of 2"),
            "{err}"
        );
    }

    mod fuzz {
        //! The unpickler and the whole `.pt` conversion on edited inputs (proptest, a fixed
        //! seed and number of cases): a panic, an abort or a stack overflow fails the test.
        use super::*;
        use proptest::prelude::*;
        use proptest::test_runner::{Config, RngSeed};
        use qts_core::fuzz::mutate;

        fn config(cases: u32) -> Config {
            Config {
                cases,
                rng_seed: RngSeed::Fixed(20_261_202),
                failure_persistence: None,
                ..Config::default()
            }
        }

        /// The `data.pkl` of a real `torch.save` of an LSTM's state dict.
        fn real_pickle() -> Vec<u8> {
            let path =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/networks/user_lstm.pt");
            let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
            let name = (0..zip.len())
                .map(|i| zip.by_index(i).unwrap().name().to_string())
                .find(|n| n.ends_with("data.pkl"))
                .unwrap();
            let mut out = Vec::new();
            zip.by_name(&name).unwrap().read_to_end(&mut out).unwrap();
            out
        }

        fn edits() -> impl Strategy<Value = Vec<(u8, u32, u8)>> {
            prop::collection::vec(any::<(u8, u32, u8)>(), 0..10)
        }

        proptest! {
            #![proptest_config(config(3000))]

            #[test]
            fn the_unpickler_on_edited_state_dicts(real in any::<bool>(), e in edits()) {
                let seed = if real { real_pickle() } else { state_dict_pickle(2, 1) };
                let code = mutate(&seed, &e);
                let mut m = Machine { code: &code, at: 0, stack: Vec::new(), memo: BTreeMap::new(), copied: 0 };
                let _ = m.run();
            }

            #[test]
            fn the_unpickler_on_any_bytes(tail in prop::collection::vec(any::<u8>(), 0..300)) {
                let mut code = vec![0x80, 2];
                code.extend(tail);
                let mut m = Machine { code: &code, at: 0, stack: Vec::new(), memo: BTreeMap::new(), copied: 0 };
                let _ = m.run();
            }
        }

        proptest! {
            #![proptest_config(config(300))]

            #[test]
            fn pt_archives_with_edited_pickles_and_storages(e in edits(), s in edits()) {
                let dir = tempfile::tempdir().unwrap();
                let storage: Vec<u8> = [1.0f32, 2.0, 3.0].iter().flat_map(|x| x.to_le_bytes()).collect();
                let path = archive(
                    dir.path(),
                    &[
                        ("m/data.pkl", &mutate(&state_dict_pickle(3, 1), &e)),
                        ("m/data/0", &mutate(&storage, &s)),
                    ],
                );
                if let Ok(st) = pt_to_safetensors(&path) {
                    safetensors::SafeTensors::deserialize(&st).unwrap();
                }
            }

            #[test]
            fn edited_pt_archives(e in edits()) {
                let real = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/golden/networks/user_lstm.pt")).unwrap();
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("m.pt");
                std::fs::write(&path, mutate(&real, &e)).unwrap();
                let _ = pt_to_safetensors(&path);
            }
        }
    }
}
