//! ConditionExpression parser: never panics; a tree it accepts prints as an
//! expression that parses back to the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openddb_core::expr::parser::MAX_EXPRESSION_BYTES;
use openddb_core::expr::{parse_condition, ExpressionKind};

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(tree) = parse_condition(ExpressionKind::Condition, src, None) else {
        return;
    };
    let printed = tree.to_string();
    if printed.len() > MAX_EXPRESSION_BYTES {
        // Printing normalises spacing; past the size limit the re-parse is
        // refused for its size, which says nothing about the printer.
        return;
    }
    match parse_condition(ExpressionKind::Condition, &printed, None) {
        Ok(again) => assert_eq!(tree, again, "{src:?} printed as {printed:?}"),
        Err(e) => panic!("{src:?} printed as {printed:?}, which does not parse: {e}"),
    }
});
