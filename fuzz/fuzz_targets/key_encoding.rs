//! Key encoding: decoding arbitrary bytes never panics; what decodes was a
//! canonical encoding (re-encoding gives back the same bytes), and two
//! decoded keys of one type compare as their encodings do.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openddb_core::keyenc::{compare_values, decode_key_value, encode_key_value, KeyValue};

fuzz_target!(|data: &[u8]| {
    let Some((first, used)) = decode_key_value(data) else {
        return;
    };
    assert!(used <= data.len(), "used {used} of {} bytes", data.len());
    let key = |v| KeyValue::try_from(v).expect("a decoded key value is S, N or B");
    let mut enc_first = Vec::new();
    encode_key_value(key(&first), &mut enc_first);
    assert_eq!(
        enc_first,
        &data[..used],
        "non-canonical bytes decoded to {first:?}"
    );

    let Some((second, _)) = decode_key_value(&data[used..]) else {
        return;
    };
    let mut enc_second = Vec::new();
    encode_key_value(key(&second), &mut enc_second);
    if let Some(order) = compare_values(&first, &second) {
        assert_eq!(
            enc_first.cmp(&enc_second),
            order,
            "encodings of {first:?} and {second:?} disagree with their order"
        );
    }
});
