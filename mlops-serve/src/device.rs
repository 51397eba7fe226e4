//! Where a model runs: the CPU by default; a CUDA GPU when asked for, the
//! `cuda` feature is compiled in and a GPU answers — otherwise the CPU, with
//! a `tracing` warning saying why.
//!
//! Candle's `Device::cuda_if_available` checks only the compile-time feature
//! and fails when the feature is on but no GPU is present, so the fallback is
//! ours. The API is the same with the feature off.

use candle_core::Device;

/// The device a caller asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceRequest {
    /// The CPU (the default).
    #[default]
    Cpu,
    /// The CUDA GPU with this ordinal if there is one, else the CPU.
    Cuda(usize),
}

/// The device a model was placed on.
#[derive(Clone, Debug)]
pub struct ServeDevice {
    device: Device,
}

impl Default for ServeDevice {
    fn default() -> Self {
        ServeDevice::cpu()
    }
}

impl ServeDevice {
    /// The CPU.
    pub fn cpu() -> Self {
        ServeDevice { device: Device::Cpu }
    }

    /// The requested device, or the CPU (with a warning) when it cannot be had.
    pub fn select(request: DeviceRequest) -> Self {
        match request {
            DeviceRequest::Cpu => Self::cpu(),
            DeviceRequest::Cuda(ordinal) => match Device::new_cuda(ordinal) {
                Ok(device) => ServeDevice { device },
                Err(e) => {
                    tracing::warn!(
                        ordinal,
                        error = %e,
                        cuda_feature = cfg!(feature = "cuda"),
                        "CUDA device unavailable; serving on the CPU"
                    );
                    Self::cpu()
                }
            },
        }
    }

    /// Whether the model runs on a GPU.
    pub fn is_gpu(&self) -> bool {
        !self.device.is_cpu()
    }

    /// The Candle device.
    pub fn candle(&self) -> &Device {
        &self.device
    }

    /// A short name for logs (`"cpu"`, `"cuda:0"`).
    pub fn name(&self) -> String {
        match self.device.location() {
            candle_core::DeviceLocation::Cpu => "cpu".into(),
            candle_core::DeviceLocation::Cuda { gpu_id } => format!("cuda:{gpu_id}"),
            candle_core::DeviceLocation::Metal { gpu_id } => format!("metal:{gpu_id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asking_for_a_gpu_that_is_not_there_gives_the_cpu() {
        // On a machine without CUDA (or a build without the feature) this must not fail.
        let d = ServeDevice::select(DeviceRequest::Cuda(7));
        if !cfg!(feature = "cuda") {
            assert!(!d.is_gpu());
            assert_eq!(d.name(), "cpu");
        }
    }
}
