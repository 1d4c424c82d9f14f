//! Rebuilds the binary when a study file is added, changed or removed: `studies/*.toml` are
//! embedded at build time (include_dir), which cargo does not track by itself.

fn main() {
    println!("cargo:rerun-if-changed=studies");
}
