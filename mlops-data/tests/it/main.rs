//! mlops-data's integration tests, in one binary: arrow and parquet are linked once, not once per file
//! (each file below was its own test binary before).

mod bad_input;
mod common;
mod fingerprint;
mod formats;
mod merge_properties;
mod object_source;
mod reference_fixtures;
mod transforms;
mod validation;
