//! With the `torch` feature, `qts-torch` gets an rpath to libtorch's directory (reported by
//! torch-sys), so it runs without `LD_LIBRARY_PATH`, and links libtorch_cuda even though no
//! symbol of it is referenced: it registers the CUDA backend when loaded, and the linker's
//! default `--as-needed` would drop it (then libtorch sees no GPU). `qts` links no libtorch
//! at all (checked by a test).

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg-bin=qts-torch=-Wl,-rpath,{dir}");
        if std::path::Path::new(&dir).join("libtorch_cuda.so").exists() {
            println!(
                "cargo:rustc-link-arg-bin=qts-torch=-Wl,--no-as-needed,-ltorch_cuda,--as-needed"
            );
        }
    }
}
