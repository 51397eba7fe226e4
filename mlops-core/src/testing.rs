//! Small, valid artifacts for examples, doctests and users' own tests.

/// A valid safetensors file holding one 2×2 `F32` tensor named `w`.
pub fn tiny_safetensors() -> Vec<u8> {
    safetensors_f32(&[("w", &[2, 2], &[1.0, 2.0, 3.0, 4.0])])
}

/// Encodes `F32` tensors as safetensors (see [`crate::weights::encode_f32`]).
///
/// # Panics
///
/// When a shape does not match its values or a name repeats: a bug in the
/// test that calls it. Code that handles real weights calls
/// [`crate::weights::encode_f32`], which returns the error.
#[allow(clippy::expect_used)]
pub fn safetensors_f32(tensors: &[(&str, &[usize], &[f32])]) -> Vec<u8> {
    crate::weights::encode_f32(tensors).expect("test tensors: every shape matches its values")
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_with_the_safetensors_crate() {
        let bytes = super::tiny_safetensors();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(st.tensor("w").unwrap().shape(), &[2, 2]);
        let odd = super::safetensors_f32(&[("a", &[1], &[1.0]), ("bb", &[3], &[1.0, 2.0, 3.0])]);
        let st = safetensors::SafeTensors::deserialize(&odd).unwrap();
        assert_eq!(st.tensor("bb").unwrap().data().len(), 12);
    }
}
