//! The one integration-test binary: examples as golden files, one fixture per diagnostic code,
//! the command line end to end, and the agreement of the Bicep and ARM emitters.

mod agreement;
mod cli;
mod diagnostics;
mod examples;
mod harness;
mod scenarios;
