//! The extension gets an rpath to the libtorch it was built against (reported by torch-sys),
//! so it loads where that torch is installed without `import torch` first; elsewhere,
//! `qts_torch` imports the user's torch (the same version) to load libtorch by its soname.
//! libtorch_cuda is linked even though no symbol of it is referenced: it registers the CUDA
//! backend when loaded, and the linker's default `--as-needed` would drop it.

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg-cdylib=-Wl,-rpath,{dir}");
        if std::path::Path::new(&dir).join("libtorch_cuda.so").exists() {
            println!("cargo:rustc-link-arg-cdylib=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
        }
    }
}
