//! PartiQL statement parser: never panics, however deep or malformed the
//! statement; a statement it accepts numbers no more `?` placeholders than
//! the text holds `?` characters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openddb_core::partiql::parse;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(parsed) = parse(src) {
        assert!(
            parsed.params <= src.matches('?').count(),
            "{src:?} parsed with {} placeholders",
            parsed.params
        );
    }
});
