//! Shared helpers for the examples (none yet beyond the crate itself).
