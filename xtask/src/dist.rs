//! `cargo xtask dist`: builds the widget and the inbox to WASM, runs
//! wasm-bindgen (as a library, so its version always matches Cargo.lock)
//! and wasm-opt, names files by content hash, precompresses them, writes
//! the loader and the inbox page, and checks the widget's size budget.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::setup::{self, WASM_TARGET};
use crate::{Result, cargo, check, root};

/// Size budgets, gzip bytes: the loader, and everything the widget fetches
/// (loader, JS glue, WASM with its CSS). `dist` fails above them.
pub const LOADER_BUDGET_GZIP: usize = 3 * 1024;
pub const WIDGET_BUDGET_GZIP: usize = 100 * 1024;
/// Where the budgets are headed; reported, not yet enforced.
pub const LOADER_TARGET_GZIP: usize = 2 * 1024;
pub const WIDGET_TARGET_BROTLI: usize = 70 * 1024;

/// Sizes of one file or a group of files, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sizes {
    pub raw: usize,
    pub gzip: usize,
    pub brotli: usize,
}

impl std::ops::Add for Sizes {
    type Output = Sizes;
    fn add(self, other: Sizes) -> Sizes {
        Sizes {
            raw: self.raw + other.raw,
            gzip: self.gzip + other.gzip,
            brotli: self.brotli + other.brotli,
        }
    }
}

/// What `dist` produced, for the report and for tests.
#[derive(Debug)]
pub struct Report {
    pub loader: Sizes,
    pub widget_total: Sizes,
    pub app_total: Sizes,
}

struct Bundle {
    js: String,
    wasm: String,
    sizes: Sizes,
}

pub fn build() -> Result<Report> {
    setup::wasm_target()?;
    setup::npm_packages()?;
    check(cargo().args([
        "build",
        "--profile",
        "wasm-release",
        "--target",
        WASM_TARGET,
        "-p",
        "rapport-widget",
        "-p",
        "rapport-app",
    ]))?;
    let dist = root().join("dist");
    if dist.exists() {
        fs::remove_dir_all(&dist)?;
    }
    fs::create_dir_all(dist.join("assets"))?;
    fs::create_dir_all(dist.join("app"))?;

    let widget = bundle("rapport_widget", "widget", &dist)?;
    let loader_source = fs::read_to_string(root().join("widget/loader.js"))?;
    let launcher_css = minify_css(&fs::read_to_string(root().join("style/launcher.css"))?);
    let loader = minify_loader(&loader_source)?
        .replace("__GLUE__", &format!("/assets/{}", widget.js))
        .replace("__WASM__", &format!("/assets/{}", widget.wasm))
        .replace("__CSS__", &in_js_string(&launcher_css));
    let loader_path = dist.join("widget.js");
    fs::write(&loader_path, &loader)?;
    // What every shop's page runs: it must at least parse.
    check(Command::new("node").arg("--check").arg(&loader_path))?;
    let loader_sizes = compress(&loader_path)?;

    let app = bundle("rapport_app", "app", &dist)?;
    let css = hashed(&dist, "app", "css", fs::read(root().join("style/app.css"))?)?;
    let app_css = compress(&dist.join("assets").join(&css))?;
    // A file, not an inline script: the page's Content-Security-Policy
    // allows this server's scripts only.
    let boot = hashed(
        &dist,
        "app-boot",
        "js",
        format!(
            "import init from \"/assets/{js}\"; init({{ module_or_path: \"/assets/{wasm}\" }});\n",
            js = app.js,
            wasm = app.wasm
        )
        .into_bytes(),
    )?;
    fs::write(
        dist.join("app/index.html"),
        format!(
            r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Rapport inbox</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/{css}">
<script type="module" src="/assets/{boot}"></script>
</head>
<body></body>
</html>
"#
        ),
    )?;

    let report = Report {
        loader: loader_sizes,
        widget_total: loader_sizes + widget.sizes,
        app_total: app.sizes + app_css,
    };
    print_report(&report);
    if report.loader.gzip > LOADER_BUDGET_GZIP {
        return Err(format!(
            "widget.js is {} B gzip, over its {LOADER_BUDGET_GZIP} B budget",
            report.loader.gzip
        )
        .into());
    }
    if report.widget_total.gzip > WIDGET_BUDGET_GZIP {
        return Err(format!(
            "the widget is {} B gzip, over its {WIDGET_BUDGET_GZIP} B budget",
            report.widget_total.gzip
        )
        .into());
    }
    Ok(report)
}

/// wasm-bindgen + wasm-opt + hashed names for one crate's WASM.
fn bundle(crate_file: &str, name: &str, dist: &Path) -> Result<Bundle> {
    let input = root()
        .join("target")
        .join(WASM_TARGET)
        .join("wasm-release")
        .join(format!("{crate_file}.wasm"));
    let staging = root().join("target/xtask").join(name);
    if staging.exists() {
        fs::remove_dir_all(&staging)?;
    }
    fs::create_dir_all(&staging)?;
    let mut output = wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&input)
        .out_name(name)
        .web(true)?
        .typescript(false)
        .remove_name_section(true)
        .remove_producers_section(true)
        .generate_output()?;
    drop_stream_exports(output.wasm_mut());
    output.emit(&staging)?;
    let bound = staging.join(format!("{name}_bg.wasm"));
    let optimized = staging.join(format!("{name}.opt.wasm"));
    check(
        Command::new(setup::wasm_opt())
            .arg("-Oz")
            // Run the passes until they stop shrinking the module.
            .arg("--converge")
            .args(["--strip-debug", "--strip-producers"])
            .args(["--enable-bulk-memory", "--enable-nontrapping-float-to-int"])
            .arg(&bound)
            .arg("-o")
            .arg(&optimized),
    )?;
    let wasm = hashed(dist, name, "wasm", fs::read(&optimized)?)?;
    let glue = fs::read_to_string(staging.join(format!("{name}.js")))?;
    let glue = minify_js(&format!("{name}.glue"), &drop_stream_classes(&glue), true)?;
    if glue.to_ascii_lowercase().contains(STREAM_EXPORTS) {
        return Err(format!("{name}'s glue still uses the unused stream classes").into());
    }
    let js = hashed(dist, name, "js", glue.into_bytes())?;
    let sizes =
        compress(&dist.join("assets").join(&js))? + compress(&dist.join("assets").join(&wasm))?;
    Ok(Bundle { js, wasm, sizes })
}

/// Writes `bytes` as `assets/NAME-HASH.EXT`; returns the file name.
fn hashed(dist: &Path, name: &str, ext: &str, bytes: Vec<u8>) -> Result<String> {
    let digest = Sha256::digest(&bytes);
    let hash: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    let file = format!("{name}-{hash}.{ext}");
    fs::write(dist.join("assets").join(&file), bytes)?;
    Ok(file)
}

/// Writes `.gz` and `.br` beside `path`; returns the three sizes.
pub fn compress(path: &Path) -> Result<Sizes> {
    let raw = fs::read(path)?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&raw)?;
    let gz = gz.finish()?;
    let mut br = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut br, 4096, 11, 22);
        writer.write_all(&raw)?;
    }
    fs::write(with_suffix(path, "gz"), &gz)?;
    fs::write(with_suffix(path, "br"), &br)?;
    Ok(Sizes {
        raw: raw.len(),
        gzip: gz.len(),
        brotli: br.len(),
    })
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

/// Leptos always brings server_fn's browser streams (wasm-streams), whose
/// adapter classes wasm-bindgen exports to JS although Rapport never makes
/// a stream: about 8 KB of WASM and 3 KB of JS in every download. Their
/// exports are dropped here, so that wasm-opt drops the code behind them.
const STREAM_EXPORTS: &str = "intounderlying";

fn drop_stream_exports(module: &mut walrus::Module) {
    let unused: Vec<_> = module
        .exports
        .iter()
        .filter(|export| export.name.to_ascii_lowercase().contains(STREAM_EXPORTS))
        .map(walrus::Export::id)
        .collect();
    for id in unused {
        module.exports.delete(id);
    }
}

/// The glue without those classes and their finalizers (which terser
/// must keep: constructing one might do something); the classes, no longer
/// exported, are unused and terser drops them with what only they use.
fn drop_stream_classes(glue: &str) -> String {
    let mut out = String::with_capacity(glue.len());
    let mut in_finalizer = false;
    for line in glue.lines() {
        if line.starts_with("const IntoUnderlying") {
            in_finalizer = true;
        }
        if in_finalizer {
            in_finalizer = !line.ends_with(';');
            continue;
        }
        if line.starts_with("if (Symbol.dispose) IntoUnderlying") {
            continue;
        }
        out.push_str(
            line.strip_prefix("export ")
                .filter(|rest| rest.starts_with("class IntoUnderlying"))
                .unwrap_or(line),
        );
        out.push('\n');
    }
    out
}

/// JS minified by terser (from npm, like wasm-opt): names shortened,
/// comments and spaces gone; `module` for an ES module, whose unused
/// top-level code goes too.
fn minify_js(name: &str, source: &str, module: bool) -> Result<String> {
    let staging = root().join("target/xtask");
    fs::create_dir_all(&staging)?;
    let input = staging.join(format!("{name}.js"));
    let output = staging.join(format!("{name}.min.js"));
    fs::write(&input, source)?;
    let mut terser = Command::new(setup::terser());
    terser
        .arg(&input)
        .args(["--compress", "passes=2", "--mangle", "--ecma", "2020"]);
    if module {
        terser.arg("--module");
    }
    check(terser.arg("--output").arg(&output))?;
    Ok(fs::read_to_string(&output)?)
}

/// `text` as it may stand inside a JS string literal, whichever quotes
/// terser chose for it.
fn in_js_string(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\'', "\\'")
        .replace('\n', "\\n")
}

/// The loader, minified. Its placeholders are strings, which terser keeps
/// as they are.
fn minify_loader(source: &str) -> Result<String> {
    let minified = minify_js("loader", source, false)?;
    for placeholder in ["__GLUE__", "__WASM__", "__CSS__"] {
        if !minified.contains(placeholder) {
            return Err(format!("terser lost the loader's {placeholder} placeholder").into());
        }
    }
    Ok(minified)
}

fn minify_css(source: &str) -> String {
    let mut out = String::new();
    for word in strip_block_comments(source).split_whitespace() {
        let glue =
            out.ends_with(['{', '}', ';', ':', ',']) || word.starts_with(['{', '}', ';', ',']);
        if !out.is_empty() && !glue {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

fn strip_block_comments(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        match rest[start..].find("*/") {
            Some(end) => rest = &rest[start + end + 2..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn print_report(report: &Report) {
    let row = |name: &str, s: Sizes| {
        eprintln!(
            "  {name:<34} {:>9} B raw {:>8} B gzip {:>8} B brotli",
            s.raw, s.gzip, s.brotli
        )
    };
    eprintln!("xtask: sizes");
    row("widget.js (loader)", report.loader);
    row("widget total (loader+JS+WASM+CSS)", report.widget_total);
    row("inbox app (JS+WASM+CSS)", report.app_total);
    eprintln!(
        "  until the shopper can type the widget fetches 4 files: widget.js, /api/widget/config, \
         the JS glue and the WASM (its CSS is inside); then it opens 1 WebSocket"
    );
    eprintln!("  budgets: loader {LOADER_BUDGET_GZIP} B gzip, widget {WIDGET_BUDGET_GZIP} B gzip");
    eprintln!(
        "  targets: loader {LOADER_TARGET_GZIP} B gzip ({}), widget {WIDGET_TARGET_BROTLI} B brotli ({})",
        verdict(report.loader.gzip <= LOADER_TARGET_GZIP),
        verdict(report.widget_total.brotli <= WIDGET_TARGET_BROTLI)
    );
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn css_minifies_without_changing_meaning() {
        assert_eq!(
            minify_css(
                "/* c */\n:host {\n  all: initial !important;\n  font: 15px/1.4 a, b;\n}\n.x { color: red; }"
            ),
            ":host{all:initial !important;font:15px/1.4 a,b;}.x{color:red;}"
        );
    }

    #[test]
    fn css_goes_into_a_js_string_whatever_its_quotes() {
        let css = r#"font: "Segoe UI", 'Roboto'; content: "\2713""#;
        let escaped = in_js_string(css);
        // JSON reads a double-quoted string as JS does (no single quotes
        // escaped in JSON, so compare the double-quoted reading).
        let as_json = format!("\"{}\"", escaped.replace("\\'", "'"));
        assert_eq!(
            serde_json::from_str::<String>(&as_json).expect("a JS string"),
            css
        );
        assert!(
            !escaped
                .replace("\\\\", "")
                .replace("\\'", "")
                .contains('\'')
        );
    }
}
