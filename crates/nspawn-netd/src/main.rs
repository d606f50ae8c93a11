//! The `nspawn-netd` executable: everything lives in the `nspawn-netd` library.

fn main() -> std::process::ExitCode {
    nspawn_netd::main()
}
