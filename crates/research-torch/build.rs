//! With the `torch` feature, tests and examples of this crate get an rpath to libtorch's
//! directory (reported by torch-sys), so they run without `LD_LIBRARY_PATH`, and link
//! libtorch_cuda when it is there: loading it registers the CUDA backend, and the linker's
//! default `--as-needed` would drop it since no symbol of it is referenced.

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        if std::path::Path::new(&dir).join("libtorch_cuda.so").exists() {
            println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
        }
    }
}
