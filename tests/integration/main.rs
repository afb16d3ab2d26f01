//! The one integration-test binary: examples as golden files, one fixture per diagnostic code,
//! the command line end to end, the agreement of the Bicep and ARM emitters, and the machines
//! (Databricks, VMs, HDInsight) users get wrong; `verify` on the examples and on broken
//! templates, and `explain`.

mod agreement;
mod blueprints;
mod cli;
mod diagnostics;
mod docs;
mod examples;
mod explain;
mod harness;
mod hostile;
mod input;
mod machines;
mod scenarios;
mod verify;
