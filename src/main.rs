//! The `amlgen` binary: hands the arguments to [`amlgen::cli::run`] and exits with its code.

use std::process::ExitCode;

fn main() -> ExitCode {
    let code = amlgen::cli::run(
        std::env::args_os(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    ExitCode::from(code)
}
