//! The `bench-client` binary: everything lives in the library.

fn main() -> std::process::ExitCode {
    bench_client::main_with_args(std::env::args_os())
}
