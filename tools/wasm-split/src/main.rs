//! The wasm-split step of the site build (scripts/build-site.sh): cuts the linked dashboard wasm
//! at the `#[lazy_route]` split points into a main module (for wasm-bindgen) and one module per
//! page with the chunks pages share, writes the loader script the main module imports, and the
//! manifest Leptos reads to preload a rendered page's modules.
//!
//! `gatehouse-wasm-split <linked.wasm> <pkg dir> <main module out>`
//!
//! This is what `cargo leptos build --split` does; the manifest is why this is a program and not
//! `wasm-split-cli`, which does not write it.

use std::path::PathBuf;

use anyhow::{Context, bail};

/// The loader's file name Leptos expects beside the manifest (`leptos::HydrationScripts`).
const LOADER: &str = "__wasm_split.______________________.js";
/// The manifest Leptos reads: split name → the files to preload for it.
const MANIFEST: &str = "__wasm_split_manifest.json";
/// The module the loader takes `initSync` from: wasm-bindgen's output, beside it in the pkg dir.
const MAIN_MODULE: &str = "./gatehouse.js";

fn main() -> anyhow::Result<()> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [input, pkg_dir, main_out] = args.as_slice() else {
        bail!("usage: gatehouse-wasm-split <linked.wasm> <pkg dir> <main module out>");
    };
    let wasm = std::fs::read(input).with_context(|| format!("reading {}", input.display()))?;
    let link_name = format!("./{LOADER}");
    let mut options = wasm_split_cli_support::Options::new(&wasm);
    options.output_dir = pkg_dir;
    options.main_out_path = main_out;
    options.link_name = &link_name;
    options.main_module = MAIN_MODULE;
    options.target.web();
    let split = wasm_split_cli_support::transform(options)
        .map_err(|e| anyhow::anyhow!("{e:?}"))
        .context("splitting the wasm")?;
    let manifest = serde_json::to_string_pretty(&split.prefetch_map)?;
    std::fs::write(pkg_dir.join(MANIFEST), manifest).context("writing the split manifest")?;
    println!("{} page modules and shared chunks", split.split_modules.len());
    Ok(())
}
