//! The examples' command-line tests, in one binary: arrow and parquet are linked once, not once per file
//! (each file below was its own test binary before).

mod cli;
mod registry_cli;
mod s3;
mod serve_cli;
mod serve_http;
