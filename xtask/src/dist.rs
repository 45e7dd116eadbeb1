//! `cargo xtask dist`: builds the widget and the inbox to WASM, runs
//! wasm-bindgen (as a library, so its version always matches Cargo.lock)
//! and wasm-opt, names files by content hash, precompresses them, writes
//! the loader and the inbox page, and checks the widget's size budget.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use protocol::WidgetText;
use sha2::{Digest, Sha256};

use crate::setup::{self, WASM_TARGET};
use crate::{Result, cargo, check, root};

/// Size budgets, gzip bytes: the loader, and everything the widget fetches
/// before the shopper can type (loader, JS glue, WASM with its CSS: the
/// core). `dist` fails above them. The core keeps room under its budget for
/// the features to come: new features load on first use, as the extras and
/// the files module do. (The room was 10 KB until files and links shown in
/// every message, and the phone's layout, took 4.8 KB of it: BENCHMARKS.md.)
pub const LOADER_BUDGET_GZIP: usize = 3 * 1024;
pub const WIDGET_BUDGET_GZIP: usize = 100 * 1024;
pub const WIDGET_HEADROOM_GZIP: usize = 6 * 1024;
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
    /// The extras module, fetched only when the chat first shows one of them.
    pub widget_extras: Sizes,
    /// The files module, fetched only when a shopper first attaches a file.
    pub widget_files: Sizes,
    /// The help view, suggestions and articles (loaded on first use).
    pub widget_help: Sizes,
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

    // The panel's styles ride in the glue, minified (in the WASM they
    // were kept whole); the loader adds them to its shadow root's styles.
    let panel_css = minify_css(&fs::read_to_string(root().join("style/widget.css"))?);
    let widget = bundle(
        "rapport_widget",
        "widget",
        &dist,
        &format!(
            "export const css = '{}';\n{}",
            in_js_string(&panel_css),
            fs::read_to_string(root().join("widget/panel.js"))?
                .replace(
                    "__ATTACH__",
                    &(protocol::WidgetText::AttachFile as u8).to_string()
                )
                .replace("__HELP__", &(WidgetText::Help as u8).to_string())
        ),
    )?;
    let loader_source = fs::read_to_string(root().join("widget/loader.js"))?;
    let launcher_css = minify_css(&fs::read_to_string(root().join("style/launcher.css"))?);
    let extras_css = minify_css(&fs::read_to_string(root().join("style/widget-extras.css"))?);
    let extras_source = fs::read_to_string(root().join("widget/extras.js"))?
        .replace("__CSS__", &in_js_string(&extras_css))
        .replace(
            "__RATE_WORDS__",
            // The order extras.js reads them in: the question, the five
            // points worst first, the comment's label, the button, the thanks.
            &word_indexes(&[
                WidgetText::RateAsk,
                WidgetText::RateWorst,
                WidgetText::RateBad,
                WidgetText::RateOkay,
                WidgetText::RateGood,
                WidgetText::RateBest,
                WidgetText::RateComment,
                WidgetText::RateSend,
                WidgetText::RateThanks,
            ]),
        );
    let extras = hashed(
        &dist,
        "extras",
        "js",
        minify_js("extras", &extras_source, true)?.into_bytes(),
    )?;
    let extras_sizes = compress(&dist.join("assets").join(&extras))?;
    let files_css = minify_css(&fs::read_to_string(root().join("style/widget-files.css"))?);
    let files_source = fs::read_to_string(root().join("widget/files.js"))?
        .replace("__CSS__", &in_js_string(&files_css))
        .replace(
            "__WORDS__",
            // The order files.js reads them in.
            &word_indexes(&[
                WidgetText::Uploading,
                WidgetText::UploadFailed,
                WidgetText::Remove,
                WidgetText::Retry,
            ]),
        );
    let files = hashed(
        &dist,
        "files",
        "js",
        minify_js("files", &files_source, true)?.into_bytes(),
    )?;
    let files_sizes = compress(&dist.join("assets").join(&files))?;
    let help_css = minify_css(&fs::read_to_string(root().join("style/widget-help.css"))?);
    let help_source = fs::read_to_string(root().join("widget/help.js"))?
        .replace("__CSS__", &in_js_string(&help_css))
        .replace(
            "__WORDS__",
            // The order help.js reads them in.
            &word_indexes(&[
                WidgetText::Help,
                WidgetText::HelpSearch,
                WidgetText::HelpNone,
                WidgetText::MightHelp,
                WidgetText::HelpAnswered,
                WidgetText::HelpTalk,
                WidgetText::HelpBack,
                WidgetText::HelpThanks,
            ]),
        );
    let help = hashed(
        &dist,
        "help",
        "js",
        minify_js("help", &help_source, true)?.into_bytes(),
    )?;
    let help_sizes = compress(&dist.join("assets").join(&help))?;
    let loader = minify_loader(&loader_source)?
        .replace("__EXTRAS__", &format!("/assets/{extras}"))
        .replace("__FILES__", &format!("/assets/{files}"))
        .replace("__HELP__", &format!("/assets/{help}"))
        .replace("__GLUE__", &format!("/assets/{}", widget.js))
        .replace("__WASM__", &format!("/assets/{}", widget.wasm))
        .replace("__CSS__", &in_js_string(&launcher_css));
    let loader_path = dist.join("widget.js");
    fs::write(&loader_path, &loader)?;
    // What every shop's page runs: it must at least parse.
    check(Command::new("node").arg("--check").arg(&loader_path))?;
    let loader_sizes = compress(&loader_path)?;

    let app = bundle("rapport_app", "app", &dist, "")?;
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
        widget_extras: extras_sizes,
        widget_files: files_sizes,
        widget_help: help_sizes,
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
    if report.widget_total.gzip + WIDGET_HEADROOM_GZIP > WIDGET_BUDGET_GZIP {
        return Err(format!(
            "the widget's core is {} B gzip: it must leave {WIDGET_HEADROOM_GZIP} B of its \
             {WIDGET_BUDGET_GZIP} B budget free (load the new feature on first use)",
            report.widget_total.gzip
        )
        .into());
    }
    Ok(report)
}

/// wasm-bindgen + wasm-opt + hashed names for one crate's WASM.
/// `glue_tail` is JS added to the end of the glue module.
fn bundle(crate_file: &str, name: &str, dist: &Path, glue_tail: &str) -> Result<Bundle> {
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
    stub_stream_code(output.wasm_mut())?;
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
    let glue = fs::read_to_string(staging.join(format!("{name}.js")))? + glue_tail;
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

/// What wasm-bindgen names the code of those streams: their own crate, and
/// the promise adapter only they use (Rapport exports no async function).
const STREAM_CODE: [&str; 2] = ["wasm_streams::", "js_sys::futures::future_to_promise"];

/// Where a stream or its promise starts: the crate's own functions and
/// methods, and the adapter itself (not its closures).
const STREAM_ENTRIES: [&str; 2] = ["wasm_streams::", "js_sys::futures::future_to_promise::h"];

/// The streams' code survives the dropped exports: the closures their
/// promises hand to JS sit in the function table, which wasm-opt keeps
/// whole. Their bodies become `unreachable`, so what only they call goes
/// (about 4.5 KB gzip of the widget). A stream or its promise can only
/// come to be through one of their entry points (a stream method, or
/// `future_to_promise` itself): if any other code reaches one, from an
/// export, the start function or the function table, the build fails
/// rather than ship a widget that would trap.
fn stub_stream_code(module: &mut walrus::Module) -> Result<()> {
    let is_stream_code = |func: &walrus::Function| {
        func.name
            .as_deref()
            .is_some_and(|name| STREAM_CODE.iter().any(|code| name.contains(code)))
    };
    let stubbed: HashSet<walrus::FunctionId> = module
        .funcs
        .iter()
        .filter(|func| is_stream_code(func))
        .map(walrus::Function::id)
        .collect();
    if let Some(used) = stream_code_reached(module, &stubbed) {
        let name = |id| module.funcs.get(id).name.as_deref().unwrap_or("?");
        return Err(format!(
            "{} is reached from {}: the stream code cannot be stubbed",
            name(used.1),
            name(used.0)
        )
        .into());
    }
    for func in module.funcs.iter_mut() {
        if !stubbed.contains(&func.id()) {
            continue;
        }
        if let walrus::FunctionKind::Local(local) = &mut func.kind {
            let entry = local.entry_block();
            local.block_mut(entry).instrs.clear();
            local.builder_mut().func_body().unreachable();
        }
    }
    Ok(())
}

/// A (caller, callee) pair where code other than `stream_code`, reached
/// from the module's roots without passing through stream code, calls an
/// entry point of the streams.
fn stream_code_reached(
    module: &walrus::Module,
    stream_code: &HashSet<walrus::FunctionId>,
) -> Option<(walrus::FunctionId, walrus::FunctionId)> {
    let is_entry = |id: walrus::FunctionId| {
        module.funcs.get(id).name.as_deref().is_some_and(|name| {
            STREAM_ENTRIES
                .iter()
                .any(|entry| name.trim_start_matches('<').starts_with(entry))
        })
    };
    let mut roots: Vec<walrus::FunctionId> = module
        .exports
        .iter()
        .filter_map(|export| match export.item {
            walrus::ExportItem::Function(id) => Some(id),
            _ => None,
        })
        .chain(module.start)
        .collect();
    for element in module.elements.iter() {
        match &element.items {
            walrus::ElementItems::Functions(ids) => roots.extend(ids),
            walrus::ElementItems::Expressions(_, exprs) => {
                roots.extend(exprs.iter().filter_map(|expr| match expr {
                    walrus::ConstExpr::RefFunc(id) => Some(*id),
                    _ => None,
                }));
            }
        }
    }
    let mut seen: HashSet<walrus::FunctionId> = HashSet::new();
    let mut stack: Vec<walrus::FunctionId> = roots
        .into_iter()
        .filter(|id| !stream_code.contains(id))
        .collect();
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        let walrus::FunctionKind::Local(local) = &module.funcs.get(id).kind else {
            continue;
        };
        let mut uses = Uses(Vec::new());
        walrus::ir::dfs_in_order(&mut uses, local, local.entry_block());
        for callee in uses.0 {
            if !stream_code.contains(&callee) {
                stack.push(callee);
            } else if is_entry(callee) {
                return Some((id, callee));
            }
        }
    }
    None
}

/// The functions a function calls or takes a reference to.
struct Uses(Vec<walrus::FunctionId>);

impl walrus::ir::Visitor<'_> for Uses {
    fn visit_function_id(&mut self, function: &walrus::FunctionId) {
        self.0.push(*function);
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

/// Where a lazy module's words are in the config's texts, as a JS array
/// of indexes (the texts travel in the config, in the shopper's language).
fn word_indexes(texts: &[protocol::WidgetText]) -> String {
    let indexes: Vec<String> = texts.iter().map(|&text| (text as u8).to_string()).collect();
    format!("[{}]", indexes.join(","))
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
    for placeholder in [
        "__GLUE__",
        "__WASM__",
        "__CSS__",
        "__EXTRAS__",
        "__FILES__",
        "__HELP__",
    ] {
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
    row("widget extras (on first use)", report.widget_extras);
    row("widget files (on first attachment)", report.widget_files);
    row("widget help (on first use)", report.widget_help);
    row("inbox app (JS+WASM+CSS)", report.app_total);
    eprintln!(
        "  until the shopper can type the widget fetches 4 files: widget.js, /api/widget/config, \
         the JS glue and the WASM (its CSS is inside); then it opens 1 WebSocket"
    );
    eprintln!(
        "  budgets: loader {LOADER_BUDGET_GZIP} B gzip, widget {WIDGET_BUDGET_GZIP} B gzip \
         with {WIDGET_HEADROOM_GZIP} B kept free ({} B free now)",
        WIDGET_BUDGET_GZIP.saturating_sub(report.widget_total.gzip)
    );
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

    /// A module whose export `live` calls `callee`, and whose element segment
    /// holds a stream closure that calls the stream method `stream`.
    fn module_calling(callee_name: &str) -> walrus::Module {
        let mut module = walrus::Module::default();
        let leaf = |module: &mut walrus::Module, name: &str| {
            let mut builder = walrus::FunctionBuilder::new(&mut module.types, &[], &[]);
            builder.func_body().i32_const(0).drop();
            let id = builder.finish(vec![], &mut module.funcs);
            module.funcs.get_mut(id).name = Some(name.to_owned());
            id
        };
        let stream = leaf(&mut module, "wasm_streams::IntoUnderlyingSink::write::h1");
        let callee = leaf(&mut module, callee_name);
        let mut closure = walrus::FunctionBuilder::new(&mut module.types, &[], &[]);
        closure.func_body().call(stream);
        let closure = closure.finish(vec![], &mut module.funcs);
        module.funcs.get_mut(closure).name =
            Some("js_sys::futures::future_to_promise::{{closure}}::h2".to_owned());
        let mut live = walrus::FunctionBuilder::new(&mut module.types, &[], &[]);
        live.func_body().call(callee);
        let live = live.finish(vec![], &mut module.funcs);
        module.exports.add("live", live);
        module.elements.add(
            walrus::ElementKind::Declared,
            walrus::ElementItems::Functions(vec![closure]),
        );
        module
    }

    fn stream_code_of(module: &walrus::Module) -> HashSet<walrus::FunctionId> {
        module
            .funcs
            .iter()
            .filter(|f| {
                f.name
                    .as_deref()
                    .is_some_and(|n| STREAM_CODE.iter().any(|c| n.contains(c)))
            })
            .map(walrus::Function::id)
            .collect()
    }

    #[test]
    fn stream_code_is_stubbed_only_when_nothing_else_reaches_it() {
        let mut unused = module_calling("rapport_widget::mount::h3");
        assert!(stream_code_reached(&unused, &stream_code_of(&unused)).is_none());
        stub_stream_code(&mut unused).expect("only the table's stream closure reaches the streams");

        let mut used = module_calling("js_sys::futures::future_to_promise::h4");
        assert!(stream_code_reached(&used, &stream_code_of(&used)).is_some());
        assert!(
            stub_stream_code(&mut used).is_err(),
            "a live export makes promises"
        );
    }

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
