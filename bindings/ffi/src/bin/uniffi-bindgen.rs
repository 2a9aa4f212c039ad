//! The workspace's `uniffi-bindgen`: generates the Kotlin, Swift and Python bindings from the
//! built `sessionkit_ffi` library (library mode), with the same uniffi version as the library.

fn main() {
    uniffi::uniffi_bindgen_main()
}
