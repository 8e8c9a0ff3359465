//! UpdateExpression parser: never panics; a tree it accepts prints as an
//! expression that parses back to the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openddb_core::expr::parse_update;
use openddb_core::expr::parser::MAX_EXPRESSION_BYTES;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(tree) = parse_update(src, None) else {
        return;
    };
    let printed = tree.to_string();
    if printed.len() > MAX_EXPRESSION_BYTES {
        return;
    }
    match parse_update(&printed, None) {
        Ok(again) => assert_eq!(tree, again, "{src:?} printed as {printed:?}"),
        Err(e) => panic!("{src:?} printed as {printed:?}, which does not parse: {e}"),
    }
});
