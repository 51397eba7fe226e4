//! Writing model weights in the safetensors format (the only weights format
//! packages accept: it holds tensors and nothing that executes).

use safetensors::tensor::{Dtype, TensorView};

use crate::{Error, Result};

/// Encodes `F32` tensors `(name, shape, values)` as a safetensors file, with
/// the `safetensors` crate's own serializer.
///
/// A shape whose element count differs from the number of values, or a name
/// given twice, is [`Error::InvalidInput`] naming the tensor.
///
/// ```
/// let bytes = mlops_core::weights::encode_f32(&[("w", &[2], &[0.5, -1.0]), ("b", &[1], &[0.1])])?;
/// let file = safetensors::SafeTensors::deserialize(&bytes)?;
/// assert_eq!(file.tensor("w")?.shape(), &[2]);
/// assert!(mlops_core::weights::encode_f32(&[("w", &[3], &[0.5, -1.0])]).is_err());
/// assert!(mlops_core::PackageBuilder::new("m").weights(bytes).build().is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn encode_f32(tensors: &[(&str, &[usize], &[f32])]) -> Result<Vec<u8>> {
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, _, values)| values.iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let mut views = Vec::with_capacity(tensors.len());
    for ((name, shape, values), data) in tensors.iter().zip(&bytes) {
        let elements = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        if elements != Some(values.len()) {
            return Err(Error::invalid_input(
                "tensor",
                format!("weights tensor `{name}`"),
                format!("shape {shape:?} does not hold {} values", values.len()),
                "a shape whose dimensions multiply to the number of values",
            ));
        }
        if views.iter().any(|(n, _)| n == name) {
            return Err(Error::invalid_input(
                "tensor",
                format!("weights tensor `{name}`"),
                "the name is given twice",
                "unique tensor names",
            ));
        }
        let view = TensorView::new(Dtype::F32, shape.to_vec(), data).map_err(|e| {
            Error::invalid_input("tensor", format!("weights tensor `{name}`"), e.to_string(), "F32 data")
        })?;
        views.push((*name, view));
    }
    safetensors::serialize(views.iter().map(|(n, v)| (*n, v)), None)
        .map_err(|e| Error::serialization("safetensors weights", e))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_safetensors_crate_reads_back_names_shapes_and_values() {
        let bytes = encode_f32(&[("w", &[2, 2], &[1.0, -2.0, 3.5, 4.0]), ("b", &[1], &[0.25])]).unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let w = st.tensor("w").unwrap();
        assert_eq!((w.dtype(), w.shape()), (Dtype::F32, &[2usize, 2][..]));
        let values: Vec<f32> = w
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(values, [1.0, -2.0, 3.5, 4.0]);
        assert_eq!(st.tensor("b").unwrap().data(), 0.25f32.to_le_bytes());
    }

    #[test]
    fn a_shape_that_does_not_match_its_values_is_refused() {
        // Encoded anyway, these bytes would be a file no loader accepts.
        for (shape, values) in [
            (&[3usize][..], &[1.0f32, 2.0][..]),
            (&[2, 2], &[1.0]),
            (&[usize::MAX, 2], &[1.0]),
        ] {
            let e = encode_f32(&[("w", shape, values)]).unwrap_err();
            assert!(
                matches!(e, Error::InvalidInput { .. }) && e.to_string().contains("`w`"),
                "{e}"
            );
        }
        assert!(encode_f32(&[("w", &[1], &[1.0]), ("w", &[1], &[2.0])]).is_err());
    }
}
