//! `gptlens export` and the HTML handout: every view written as SVG, HTML and
//! text through the explorer's draw code, each file parsed back.

mod common;

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_gptlens");

const VIEWS: [&str; 10] = [
    "tokens",
    "embeddings",
    "attention",
    "layernorm",
    "mlp",
    "residual",
    "logits",
    "loss",
    "cost",
    "training",
];

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let o = common::in_english(&mut Command::new(BIN))
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("run gptlens");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        err,
    )
}

/// Parses an HTML page as XML (the `<!DOCTYPE html>` line is a DTD to roxmltree).
fn parse_html(s: &str) -> Result<roxmltree::Document<'_>, roxmltree::Error> {
    let opt = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(s, opt)
}

/// The text of every `<text>` element, in document order.
fn svg_text(doc: &roxmltree::Document) -> String {
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .collect()
}

fn fills(doc: &roxmltree::Document) -> std::collections::BTreeSet<String> {
    doc.descendants()
        .filter_map(|n| n.attribute("fill").map(str::to_string))
        .collect()
}

fn export(dir: &Path, view: &str, format: &str, extra: &[&str]) -> String {
    let out = dir.join(format!("{view}.{format}"));
    let mut a = vec![
        "export",
        "--view",
        view,
        "--format",
        format,
        "--out",
        out.to_str().unwrap(),
    ];
    a.extend_from_slice(extra);
    let (code, stdout, err) = run(&a);
    assert_eq!(code, Some(0), "{a:?}: {err}");
    assert_eq!(stdout, "", "the file is written, not stdout");
    assert!(err.contains(out.to_str().unwrap()), "says where: {err}");
    std::fs::read_to_string(&out).expect("the exported file")
}

#[test]
fn every_view_exports_as_valid_svg_html_and_text() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for view in VIEWS {
        let svg = export(tmp.path(), view, "svg", &[]);
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{view}.svg: {e}"));
        let root = doc.root_element();
        assert!(
            root.has_tag_name(("http://www.w3.org/2000/svg", "svg")),
            "{view}"
        );
        assert_eq!(root.attribute("width"), Some("1008.0"), "120 columns × 8.4");
        let text = svg_text(&doc);
        assert!(
            text.contains(view) || text.to_lowercase().contains(view),
            "{view}: {text}"
        );
        assert!(
            fills(&doc).len() >= 3,
            "{view}: colours kept: {:?}",
            fills(&doc)
        );

        let html = export(tmp.path(), view, "html", &[]);
        let doc = parse_html(&html).unwrap_or_else(|e| panic!("{view}.html: {e}"));
        assert!(doc.root_element().has_tag_name("html"));
        assert!(
            !html.contains("<script") && !html.contains("src=") && !html.contains("href="),
            "self-contained"
        );
        let pre = doc
            .descendants()
            .find(|n| n.has_tag_name("pre"))
            .expect("the screen");
        let shown: String = pre
            .descendants()
            .filter(|n| n.is_text())
            .filter_map(|n| n.text())
            .collect();
        assert_eq!(shown.lines().count(), 40, "{view}: 40 rows");

        let txt = export(tmp.path(), view, "txt", &[]);
        assert_eq!(txt.lines().count(), 40);
        assert!(
            txt.lines()
                .all(|l| unicode_width::UnicodeWidthStr::width(l) <= 120)
        );
        // The three formats show the same screen.
        let html_lines: Vec<&str> = shown.lines().map(str::trim_end).collect();
        let txt_lines: Vec<&str> = txt.lines().collect();
        assert_eq!(html_lines, txt_lines, "{view}");
    }
}

#[test]
fn selections_sizes_and_lessons_are_drawn_as_asked() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = export(
        tmp.path(),
        "attention",
        "txt",
        &["--layer", "2", "--head", "3", "--size", "80x24"],
    );
    assert_eq!(a.lines().count(), 24);
    assert!(a.contains("layer 2") || a.contains("L2"), "{a}");
    let (code, out, err) = run(&[
        "export",
        "--view",
        "mlp",
        "--format",
        "txt",
        "--prompt",
        "Tom and Sue",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("Tom"), "to stdout when no --out: {out}");
    let out = tmp.path().join("step.svg");
    let (code, _, err) = run(&[
        "export",
        "--lesson",
        "attention",
        "--step",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let svg = std::fs::read_to_string(&out).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("lesson step svg");
    assert!(
        svg_text(&doc).contains("Attention"),
        "the lesson text is on the screen"
    );

    for (args, says) in [
        (vec!["export", "--view", "atention"], "attention"),
        (
            vec!["export", "--view", "mlp", "--size", "50x10"],
            "at least 60x18",
        ),
        (vec!["export", "--view", "mlp", "--layer", "9"], "0 to 3"),
        (
            vec!["export", "--lesson", "attention", "--step", "99"],
            "steps 1 to",
        ),
        (vec!["export"], "--view"),
    ] {
        let (code, out, err) = run(&args);
        assert_eq!((code, out.as_str()), (Some(2), ""), "{args:?}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(says),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn the_html_handout_has_every_step_with_its_screen() {
    let (code, html, err) = run(&["lesson", "attention", "--print", "--format", "html"]);
    assert_eq!(code, Some(0), "{err}");
    let doc = parse_html(&html).unwrap_or_else(|e| panic!("handout: {e}"));
    let figures: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("figure"))
        .collect();
    let (_, md, _) = run(&["lesson", "attention", "--print"]);
    let steps = md.lines().filter(|l| l.starts_with("## ")).count();
    assert!(steps >= 3, "{md}");
    assert_eq!(figures.len(), steps, "one screen per step");
    for f in &figures {
        assert!(f.descendants().any(|n| n.tag_name().name() == "svg"));
    }
    let h2 = doc.descendants().filter(|n| n.has_tag_name("h2")).count();
    assert_eq!(h2, steps);
    assert!(!html.contains("<script"), "self-contained");
}
