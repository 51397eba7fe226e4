//! Small, valid artifacts for examples, doctests and users' own tests.

/// A valid safetensors file holding one 2×2 `F32` tensor named `w`.
pub fn tiny_safetensors() -> Vec<u8> {
    safetensors_f32(&[("w", &[2, 2], &[1.0, 2.0, 3.0, 4.0])])
}

/// Encodes `F32` tensors as a safetensors file (header length, JSON header, little-endian data).
pub fn safetensors_f32(tensors: &[(&str, &[usize], &[f32])]) -> Vec<u8> {
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
    // The format pads the header with spaces to an 8-byte boundary.
    while !header.len().is_multiple_of(8) {
        header.push(b' ');
    }
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&header);
    out.extend_from_slice(&data);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_with_the_safetensors_crate() {
        let bytes = super::tiny_safetensors();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(st.tensor("w").unwrap().shape(), &[2, 2]);
    }
}
