//! Structure-aware: trees of parentheses, NOT chains, nested functions,
//! long paths and AND/OR chains, with repeat counts so a few input bytes
//! reach the 4 KB limit's depths, printed as condition and update
//! expressions up to 8 KB and parsed on a thread with the server's 2 MiB
//! worker stack. Checks: no panic, no overflow, every refusal a
//! ValidationException, and an accepted tree prints and re-parses equal.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use openddb_core::error::ErrorKind;
use openddb_core::expr::parser::MAX_EXPRESSION_BYTES;
use openddb_core::expr::{
    evaluate, parse_condition, parse_update, ExpressionKind, Placeholders,
};
use openddb_core::{AttributeValue, Number};

/// The text budget: twice the expression limit, so both sides of it are hit.
const MAX_TEXT: usize = 2 * MAX_EXPRESSION_BYTES;

#[derive(Arbitrary, Debug)]
enum Node {
    /// `a`, `#n`, with `.b` / `[0]` steps repeated.
    Path { placeholder: bool, steps: u16, index: bool },
    /// `:v`, `:s`, `:l` or an undefined `:zz`.
    Value(u8),
    /// `(` × n, the node, `)` × n.
    Parens(u16, Box<Node>),
    /// `NOT ` × n, the node.
    Not(u16, Box<Node>),
    /// The nodes joined by AND or OR.
    Chain(bool, Vec<Node>),
    /// The same node joined to itself n times by AND or OR.
    Repeat(bool, u16, Box<Node>),
    Compare(u8, Box<Node>, Box<Node>),
    Between(Box<Node>, Box<Node>, Box<Node>),
    In(Box<Node>, Vec<Node>),
    /// A function (known or not) around its arguments.
    Call(u8, Vec<Node>),
    /// The same one-argument function nested n times.
    Nest(u8, u16, Box<Node>),
    /// `+` or `-` between two nodes.
    Arith(bool, Box<Node>, Box<Node>),
}

const FUNCTIONS: &[&str] = &[
    "size",
    "attribute_exists",
    "attribute_not_exists",
    "attribute_type",
    "begins_with",
    "contains",
    "if_not_exists",
    "list_append",
    "f",
];
const COMPARATORS: &[&str] = &["=", "<>", "<", "<=", ">", ">="];

/// Appends to `out`, giving up (false) once the text budget is spent.
struct Printer {
    out: String,
}

impl Printer {
    fn push(&mut self, s: &str) -> bool {
        if self.out.len() + s.len() > MAX_TEXT {
            return false;
        }
        self.out.push_str(s);
        true
    }

    fn repeat(&mut self, s: &str, n: u16) -> bool {
        (0..n).all(|_| self.push(s))
    }

    fn list(&mut self, nodes: &[Node], sep: &str) -> bool {
        nodes
            .iter()
            .enumerate()
            .all(|(i, n)| (i == 0 || self.push(sep)) && self.node(n))
    }

    fn node(&mut self, n: &Node) -> bool {
        match n {
            Node::Path {
                placeholder,
                steps,
                index,
            } => {
                self.push(if *placeholder { "#n" } else { "a" })
                    && self.repeat(if *index { "[0]" } else { ".b" }, *steps % 64)
            }
            Node::Value(v) => self.push([":v", ":s", ":l", ":zz"][*v as usize % 4]),
            Node::Parens(k, inner) => {
                self.repeat("(", *k) && self.node(inner) && self.repeat(")", *k)
            }
            Node::Not(k, inner) => self.repeat("NOT ", *k) && self.node(inner),
            Node::Chain(and, nodes) => self.list(nodes, if *and { " AND " } else { " OR " }),
            Node::Repeat(and, k, inner) => (0..=*k).all(|i| {
                (i == 0 || self.push(if *and { " AND " } else { " OR " })) && self.node(inner)
            }),
            Node::Compare(op, a, b) => {
                self.node(a)
                    && self.push(" ")
                    && self.push(COMPARATORS[*op as usize % COMPARATORS.len()])
                    && self.push(" ")
                    && self.node(b)
            }
            Node::Between(a, lo, hi) => {
                self.node(a)
                    && self.push(" BETWEEN ")
                    && self.node(lo)
                    && self.push(" AND ")
                    && self.node(hi)
            }
            Node::In(a, list) => {
                self.node(a) && self.push(" IN (") && self.list(list, ", ") && self.push(")")
            }
            Node::Call(f, args) => {
                self.push(FUNCTIONS[*f as usize % FUNCTIONS.len()])
                    && self.push("(")
                    && self.list(args, ", ")
                    && self.push(")")
            }
            Node::Nest(f, k, inner) => {
                let name = FUNCTIONS[*f as usize % FUNCTIONS.len()];
                (0..*k).all(|_| self.push(name) && self.push("("))
                    && self.node(inner)
                    && self.repeat(")", *k)
            }
            Node::Arith(plus, a, b) => {
                self.node(a) && self.push(if *plus { " + " } else { " - " }) && self.node(b)
            }
        }
    }
}

fn check(tree: Node) {
    let mut p = Printer { out: String::new() };
    p.node(&tree);
    let condition = p.out;
    let update = format!("SET z = {condition}");

    let names: BTreeMap<String, String> = [("#n".to_string(), "n".to_string())].into();
    let values: BTreeMap<String, AttributeValue> = [
        (":v".to_string(), AttributeValue::N(Number::from_i64(1))),
        (":s".to_string(), AttributeValue::S("x".into())),
        (":l".to_string(), AttributeValue::L(Vec::new())),
    ]
    .into();
    for kind in [ExpressionKind::Condition, ExpressionKind::KeyCondition] {
        let mut ph = Placeholders::new(Some(&names), Some(&values));
        match parse_condition(kind, &condition, Some(&mut ph)) {
            Ok(c) => {
                let _ = evaluate(&c, None);
                let _ = c.to_string();
            }
            Err(e) => assert_eq!(e.kind, ErrorKind::ValidationException, "{e:?}"),
        }
    }
    let mut ph = Placeholders::new(Some(&names), Some(&values));
    if let Err(e) = parse_update(&update, Some(&mut ph)) {
        assert_eq!(e.kind, ErrorKind::ValidationException, "{e:?}");
    }

    // Without placeholders resolved a tree prints back to text; it must
    // parse to the same tree.
    if let Ok(tree) = parse_condition(ExpressionKind::Condition, &condition, None) {
        let printed = tree.to_string();
        if printed.len() <= MAX_EXPRESSION_BYTES {
            let again = parse_condition(ExpressionKind::Condition, &printed, None);
            assert_eq!(again.as_ref().ok(), Some(&tree), "{condition:?} printed as {printed:?}");
        }
    }
    if let Ok(tree) = parse_update(&update, None) {
        let printed = tree.to_string();
        if printed.len() <= MAX_EXPRESSION_BYTES {
            let again = parse_update(&printed, None);
            assert_eq!(again.as_ref().ok(), Some(&tree), "{update:?} printed as {printed:?}");
        }
    }
}

fuzz_target!(|tree: Node| {
    // The server's worker threads have 2 MiB stacks.
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || check(tree))
        .expect("spawn")
        .join()
        .expect("no panic");
});
