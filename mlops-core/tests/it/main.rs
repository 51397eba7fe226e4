//! mlops-core's integration tests, in one binary: arrow and parquet are linked once, not once per file
//! (each file below was its own test binary before).

mod emulator;
mod manifest_fuzz;
mod registry_azure;
mod registry_gcs;
mod registry_local;
mod registry_s3;
