//! Writing model weights in the safetensors format (the only weights format
//! packages accept: it holds tensors and nothing that executes).

/// Encodes `F32` tensors `(name, shape, values)` as a safetensors file: an
/// 8-byte little-endian header length, a JSON header padded with spaces to 8
/// bytes, then the little-endian data.
///
/// ```
/// let bytes = mlops_core::weights::encode_f32(&[("w", &[2], &[0.5, -1.0]), ("b", &[1], &[0.1])]);
/// assert!(mlops_core::PackageBuilder::new("m").weights(bytes).build().is_ok());
/// # Ok::<(), mlops_core::Error>(())
/// ```
pub fn encode_f32(tensors: &[(&str, &[usize], &[f32])]) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    let mut data = Vec::new();
    for (name, shape, values) in tensors {
        let start = data.len();
        for v in *values {
            data.extend_from_slice(&v.to_le_bytes());
        }
        header.insert(
            (*name).to_owned(),
            serde_json::json!({"dtype": "F32", "shape": shape, "data_offsets": [start, data.len()]}),
        );
    }
    let mut header = serde_json::Value::Object(header).to_string().into_bytes();
    while !header.len().is_multiple_of(8) {
        header.push(b' ');
    }
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&header);
    out.extend_from_slice(&data);
    out
}
