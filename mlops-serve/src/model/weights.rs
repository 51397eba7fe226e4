//! Weights from a safetensors file, looked up under our names (or the
//! file's, through the spec's name map), checked against the shapes the
//! architecture needs and cast to the compute dtype (`f32`).

use std::collections::BTreeMap;

use candle_core::{DType, Device, Tensor};
use mlops_core::{Error, Result};
use safetensors::SafeTensors;
use safetensors::tensor::Dtype;

use super::{ModelSpec, TensorSlot};

/// The tensors a model reads, by our name, as `f32` on the CPU.
#[derive(Clone, Debug)]
pub struct Weights {
    tensors: BTreeMap<String, Tensor>,
}

impl Weights {
    /// Reads the tensors `slots` names from a safetensors file.
    ///
    /// Errors: bytes that are not safetensors ([`Error::Corrupt`]); a tensor
    /// that is absent ([`Error::NotFound`] naming it, and the file's name when
    /// mapped); a shape other than the slot's ([`Error::ShapeMismatch`] with
    /// both shapes); a dtype that is not F16, BF16, F32 or F64
    /// ([`Error::TypeMismatch`]). Tensors the architecture does not read are ignored.
    pub fn from_safetensors(bytes: &[u8], slots: &[TensorSlot], spec: &ModelSpec) -> Result<Weights> {
        let file = SafeTensors::deserialize(bytes)
            .map_err(|e| Error::corrupt("weights.safetensors", format!("not a safetensors file: {e}")))?;
        let mut tensors = BTreeMap::new();
        for slot in slots {
            let stored = spec.file_tensor_name(&slot.name);
            let shown = if stored == slot.name {
                format!("`{stored}`")
            } else {
                format!("`{stored}` (mapped from `{}`)", slot.name)
            };
            let view = file.tensor(stored).map_err(|_| Error::NotFound {
                what: format!("weights tensor {shown} of shape {:?}", slot.shape),
            })?;
            if view.shape() != slot.shape.as_slice() {
                return Err(Error::ShapeMismatch {
                    tensor: stored.to_owned(),
                    expected: slot.shape.clone(),
                    found: view.shape().to_vec(),
                });
            }
            let dtype = match view.dtype() {
                Dtype::F16 => DType::F16,
                Dtype::BF16 => DType::BF16,
                Dtype::F32 => DType::F32,
                Dtype::F64 => DType::F64,
                other => {
                    return Err(Error::TypeMismatch {
                        column: format!("weights tensor {shown}"),
                        expected: "F16, BF16, F32 or F64".into(),
                        found: format!("{other:?}"),
                    });
                }
            };
            let tensor = Tensor::from_raw_buffer(view.data(), dtype, view.shape(), &Device::Cpu)
                .and_then(|t| t.to_dtype(DType::F32))
                .map_err(|e| Error::corrupt(format!("weights tensor {shown}"), e.to_string()))?;
            tensors.insert(slot.name.clone(), tensor);
        }
        Ok(Weights { tensors })
    }

    /// Weights from tensors already in memory (e.g. trained with candle-nn), checked like a file's.
    pub fn from_tensors(tensors: BTreeMap<String, Tensor>, slots: &[TensorSlot]) -> Result<Weights> {
        let mut out = BTreeMap::new();
        for slot in slots {
            let t = tensors.get(&slot.name).ok_or_else(|| Error::NotFound {
                what: format!("weights tensor `{}` of shape {:?}", slot.name, slot.shape),
            })?;
            if t.dims() != slot.shape.as_slice() {
                return Err(Error::ShapeMismatch {
                    tensor: slot.name.clone(),
                    expected: slot.shape.clone(),
                    found: t.dims().to_vec(),
                });
            }
            let t = t
                .to_device(&Device::Cpu)
                .and_then(|t| t.to_dtype(DType::F32))
                .map_err(|e| Error::inference(format!("weights tensor `{}`", slot.name), e))?;
            out.insert(slot.name.clone(), t);
        }
        Ok(Weights { tensors: out })
    }

    /// One tensor by our name.
    pub fn get(&self, name: &str) -> Result<&Tensor> {
        self.tensors.get(name).ok_or_else(|| Error::NotFound {
            what: format!("weights tensor `{name}`"),
        })
    }

    /// One tensor's values, row-major.
    pub(crate) fn values(&self, name: &str) -> Result<Vec<f32>> {
        self.get(name)?
            .flatten_all()
            .and_then(|t| t.to_vec1::<f32>())
            .map_err(|e| Error::inference(format!("weights tensor `{name}`"), e))
    }
}
