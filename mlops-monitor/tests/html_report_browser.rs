//! The HTML report renders in headless Chromium with no console errors, and a
//! screenshot is produced (target/drift-report-screenshot.png) for people to look at.
//!
//! `.ci/run` installs Debian's `chromium`; `MLOPS_SKIP_BROWSER=1` skips the test explicitly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use mlops_monitor::drift::{DataDrift, DriftConfig, html};

fn batches(shift: f64, n: usize, cats: &[&str]) -> Vec<RecordBatch> {
    let x: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1000) as f64 / 100.0 + shift).collect();
    let s: Vec<&str> = (0..n).map(|i| cats[i % cats.len()]).collect();
    vec![
        RecordBatch::try_from_iter([
            ("amount <&> \"quoted\"", Arc::new(Float64Array::from(x)) as ArrayRef),
            ("segment", Arc::new(StringArray::from(s)) as ArrayRef),
        ])
        .unwrap(),
    ]
}

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"].into_iter().find(|b| {
        Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[test]
fn report_renders_in_headless_chromium_without_console_errors() {
    if std::env::var("MLOPS_SKIP_BROWSER").is_ok_and(|v| v == "1") {
        eprintln!("MLOPS_SKIP_BROWSER=1: skipping the browser test");
        return;
    }
    let browser = chromium()
        .expect("Chromium is needed for this test (Debian: apt-get install chromium), or set MLOPS_SKIP_BROWSER=1");
    let report = DataDrift::new(DriftConfig::default())
        .compare(
            &batches(0.0, 600, &["a", "b", "c"]),
            &batches(2.5, 500, &["a", "b", "d", "d"]),
        )
        .unwrap();
    assert!(report.dataset_drift);
    let page = html::render(&report, "Drift <test> report");
    assert!(
        page.contains("&lt;test&gt;") && !page.contains("<test>"),
        "titles and names are escaped"
    );
    // Self-contained: no script and nothing fetched (the SVG namespace URI is an identifier, not a fetch).
    for needle in ["<script", "src=", "href=", "url(", "@import"] {
        assert!(!page.contains(needle), "the page contains `{needle}`");
    }

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.html");
    std::fs::write(&file, &page).unwrap();
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    std::fs::create_dir_all(&target).unwrap();
    let shot = target.join("drift-report-screenshot.png");
    let _ = std::fs::remove_file(&shot);
    let profile = dir.path().join("chrome-profile");
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ];
    let run = |extra: &[&str]| {
        let mut child = Command::new(browser)
            .args(common)
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(extra)
            .arg(format!("file://{}", file.display()))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Bounded: a hung browser fails the test instead of hanging CI.
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("chromium did not finish within 60 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        child.wait_with_output().unwrap()
    };
    let dom = run(&["--dump-dom"]);
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom_text.contains("id=\"verdict\"") && dom_text.contains("Dataset drift detected"),
        "rendered DOM: {dom_text:.400}"
    );
    assert!(dom_text.matches("<svg").count() >= 2, "one plot per column");
    let stderr = String::from_utf8_lossy(&dom.stderr);
    let console: Vec<&str> = stderr.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:?}");

    let out = run(&[
        &format!("--screenshot={}", shot.display()),
        "--window-size=1200,1400",
        "--hide-scrollbars",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let png = std::fs::read(&shot).expect("a screenshot is written");
    assert!(png.len() > 5_000 && png.starts_with(b"\x89PNG"), "{} bytes", png.len());
}
