//! A YAML tree that remembers the line each value came from and whether a scalar was quoted.
//!
//! serde deserializers forget both, and configuration errors must name the line, and `${VAR}`
//! interpolation must know whether `port: ${PORT}` (plain: re-read as a number) or
//! `name: "${NAME}"` (quoted: always a string) was written. So we build the tree ourselves from
//! `saphyr-parser` events and resolve plain scalars with the YAML 1.2 core schema.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};

/// One value of a YAML document and the (1-based) line it starts on; 0 when it has no file line.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// 1-based line in the source, 0 when the value did not come from a file.
    pub line: usize,
}

/// A YAML value after core-schema resolution.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `~`, `null` or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// A string; `plain` is false when it was quoted or a block scalar.
    Str {
        /// The text.
        text: String,
        /// Whether the scalar was written unquoted.
        plain: bool,
    },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping with string keys, in source order.
    Map(Vec<(String, Node)>),
}

/// A syntax error in a YAML document.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct SyntaxError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl Node {
    /// A node with no source line.
    pub fn new(value: Value) -> Self {
        Node { value, line: 0 }
    }

    /// An empty mapping.
    pub fn empty_map() -> Self {
        Node::new(Value::Map(Vec::new()))
    }

    /// The child under `key` when this is a mapping.
    #[cfg(test)]
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// A short name of the value's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str { .. } => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// Parses one YAML document. An empty document gives `Ok(None)`.
///
/// # Errors
/// A [`SyntaxError`] for malformed YAML, non-scalar or duplicate mapping keys, unknown aliases
/// and more than one document.
pub fn parse(text: &str) -> Result<Option<Node>, SyntaxError> {
    let mut builder = Builder {
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
        values: 0,
        depth: 0,
    };
    let mut root = None;
    loop {
        let (event, span) = builder.next()?;
        match event {
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            Event::StreamEnd => return Ok(root),
            Event::DocumentStart(_) => {
                if root.is_some() {
                    return Err(error_at(span, "only one YAML document is allowed per file"));
                }
                let (event, span) = builder.next()?;
                root = match event {
                    Event::DocumentEnd | Event::StreamEnd => None,
                    event => Some(builder.node(event, span)?),
                };
                if root.as_ref().is_some_and(|n| n.value == Value::Null) {
                    root = None;
                }
            }
            _ => return Err(error_at(span, "unexpected YAML event outside a document")),
        }
    }
}

/// Resolves an unquoted scalar with the YAML 1.2 core schema.
pub fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    if let Some(int) = parse_int(text) {
        return Value::Int(int);
    }
    if looks_like_float(text)
        && let Ok(f) = text.parse::<f64>()
    {
        return Value::Float(f);
    }
    Value::Str {
        text: text.to_string(),
        plain: true,
    }
}

fn parse_int(text: &str) -> Option<i64> {
    if let Some(hex) = text.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok();
    }
    if let Some(oct) = text.strip_prefix("0o") {
        return i64::from_str_radix(oct, 8).ok();
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

// The core schema's float: [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
fn looks_like_float(text: &str) -> bool {
    let s = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match frac_part {
        Some(f) => all_digits(int_part) && all_digits(f) && !(int_part.is_empty() && f.is_empty()),
        None => !int_part.is_empty() && all_digits(int_part),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && all_digits(e)
    });
    mantissa_ok && exponent_ok
}

/// The most values a document may hold once its aliases are expanded: a configuration has a
/// few hundred; a "billion laughs" (aliases of aliases) would have billions.
pub const MAX_VALUES: usize = 100_000;

/// The deepest nesting of sequences and mappings.
pub const MAX_DEPTH: usize = 64;

struct Builder<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    /// Each anchor's value and how many values it holds.
    anchors: HashMap<usize, (Node, usize)>,
    /// Values built so far, aliases counted as the values they copy.
    values: usize,
    depth: usize,
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), SyntaxError> {
        match self.parser.next_event() {
            Some(Ok(ev)) => Ok(ev),
            Some(Err(e)) => Err(SyntaxError {
                line: e.marker().line(),
                column: e.marker().col() + 1,
                message: e.info().to_string(),
            }),
            None => Err(SyntaxError {
                line: 0,
                column: 0,
                message: "unexpected end of YAML".into(),
            }),
        }
    }

    fn node(&mut self, event: Event<'a>, span: Span) -> Result<Node, SyntaxError> {
        let before = self.values;
        self.count(1, span)?;
        let line = span.start.line();
        if matches!(event, Event::SequenceStart(..) | Event::MappingStart(..)) {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(error_at(
                    span,
                    &format!("nested deeper than {MAX_DEPTH} levels"),
                ));
            }
        }
        let (node, anchor) = match event {
            Event::Scalar(text, style, anchor, tag) => (
                Node {
                    value: scalar(text, style, tag.as_deref()),
                    line,
                },
                anchor,
            ),
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (event, span) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(event, span)?);
                }
                (
                    Node {
                        value: Value::Seq(items),
                        line,
                    },
                    anchor,
                )
            }
            Event::MappingStart(anchor, _) => (self.mapping(line)?, anchor),
            Event::Alias(id) => {
                let Some((node, size)) = self.anchors.get(&id) else {
                    return Err(error_at(span, "alias to an unknown anchor"));
                };
                let (node, size) = (node.clone(), *size);
                // The copy counts as the values it holds, checked before anything is copied.
                self.count(size.saturating_sub(1), span)?;
                return Ok(node);
            }
            _ => return Err(error_at(span, "unexpected YAML structure")),
        };
        if matches!(node.value, Value::Seq(_) | Value::Map(_)) {
            self.depth -= 1;
        }
        if anchor > 0 {
            self.anchors
                .insert(anchor, (node.clone(), self.values - before));
        }
        Ok(node)
    }

    /// Counts `n` more values against [`MAX_VALUES`].
    fn count(&mut self, n: usize, span: Span) -> Result<(), SyntaxError> {
        self.values = self.values.saturating_add(n);
        if self.values > MAX_VALUES {
            return Err(error_at(
                span,
                &format!(
                    "the document expands to more than {MAX_VALUES} values (aliases of aliases?); refused"
                ),
            ));
        }
        Ok(())
    }

    fn mapping(&mut self, line: usize) -> Result<Node, SyntaxError> {
        let mut entries: Vec<(String, Node)> = Vec::new();
        loop {
            let (event, span) = self.next()?;
            let key = match event {
                Event::MappingEnd => break,
                Event::Scalar(text, ..) => text.into_owned(),
                _ => return Err(error_at(span, "mapping keys must be plain strings")),
            };
            if entries.iter().any(|(k, _)| *k == key) {
                return Err(error_at(span, &format!("duplicate key `{key}`")));
            }
            let (event, vspan) = self.next()?;
            let mut value = self.node(event, vspan)?;
            // An empty value (`key:`) has no line of its own; it belongs to its key.
            if value.value == Value::Null {
                value.line = span.start.line();
            }
            entries.push((key, value));
        }
        Ok(Node {
            value: Value::Map(entries),
            line,
        })
    }
}

fn scalar(text: Cow<'_, str>, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    let forced_string = tag.is_some_and(|t| t.is_yaml_core_schema() && t.suffix == "str");
    if style == ScalarStyle::Plain && !forced_string {
        resolve_plain(&text)
    } else {
        Value::Str {
            text: text.into_owned(),
            plain: false,
        }
    }
}

fn error_at(span: Span, message: &str) -> SyntaxError {
    SyntaxError {
        line: span.start.line(),
        column: span.start.col() + 1,
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str, plain: bool) -> Value {
        Value::Str {
            text: text.into(),
            plain,
        }
    }

    #[test]
    fn resolves_core_schema_scalars() {
        assert_eq!(resolve_plain("42"), Value::Int(42));
        assert_eq!(resolve_plain("-7"), Value::Int(-7));
        assert_eq!(resolve_plain("0x1F"), Value::Int(31));
        assert_eq!(resolve_plain("1e-4"), Value::Float(1e-4));
        assert_eq!(resolve_plain(".5"), Value::Float(0.5));
        assert_eq!(resolve_plain("3."), Value::Float(3.0));
        assert_eq!(resolve_plain("true"), Value::Bool(true));
        assert_eq!(resolve_plain("~"), Value::Null);
        assert_eq!(resolve_plain("1.2.3"), s("1.2.3", true));
        assert_eq!(resolve_plain("e5"), s("e5", true));
        assert_eq!(resolve_plain("."), s(".", true));
        assert_eq!(
            resolve_plain("yes"),
            s("yes", true),
            "YAML 1.2 has no yes/no booleans"
        );
    }

    #[test]
    fn keeps_lines_and_quoting() {
        let doc = "a:\n  b: 1\n  c: \"2\"\nlist:\n  - x\n  - 'y'\nempty:\n";
        let root = parse(doc).unwrap().unwrap();
        let a = root.get("a").unwrap();
        assert_eq!(
            a.get("b").unwrap(),
            &Node {
                value: Value::Int(1),
                line: 2
            }
        );
        assert_eq!(
            a.get("c").unwrap(),
            &Node {
                value: s("2", false),
                line: 3
            }
        );
        let Value::Seq(items) = &root.get("list").unwrap().value else {
            panic!("list expected")
        };
        assert_eq!(
            items[1],
            Node {
                value: s("y", false),
                line: 6
            }
        );
        assert_eq!(
            root.get("empty").unwrap(),
            &Node {
                value: Value::Null,
                line: 7
            }
        );
    }

    #[test]
    fn alias_bombs_and_deep_nesting_are_refused_before_they_grow() {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n",
                p = i - 1
            ));
        }
        let err = parse(&bomb).unwrap_err();
        assert!(err.message.contains("more than 100000 values"), "{err:?}");
        let deep = "[".repeat(200) + &"]".repeat(200);
        let err = parse(&deep).unwrap_err();
        assert!(err.message.contains("nested deeper than 64"), "{err:?}");
        // Ordinary aliases still work.
        let ok = parse("base: &b {x: 1}\nother: *b\n").unwrap();
        assert!(ok.is_some());
    }

    #[test]
    fn aliases_copy_the_anchored_value() {
        let root = parse("base: &b {x: 1}\nother: *b\n").unwrap().unwrap();
        assert_eq!(
            root.get("other").unwrap().get("x").unwrap().value,
            Value::Int(1)
        );
    }

    #[test]
    fn rejects_duplicate_keys_with_their_line() {
        let err = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("duplicate key `a`"), "{err}");
    }

    #[test]
    fn reports_syntax_errors_with_a_line() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.line >= 1, "{err}");
    }

    #[test]
    fn empty_documents_are_none() {
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("# only a comment\n").unwrap(), None);
    }

    #[test]
    fn tagged_str_stays_a_string() {
        let root = parse("v: !!str 123\n").unwrap().unwrap();
        assert_eq!(root.get("v").unwrap().value, s("123", false));
    }
}
