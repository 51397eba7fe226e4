//! The HTML report renders in headless Chromium with no console errors, and a
//! screenshot is produced (target/drift-report-screenshot.png) for people to look at.
//!
//! `.ci/run` installs Debian's `chromium`; `MLOPS_SKIP_BROWSER=1` skips the test explicitly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use mlops_monitor::drift::{DataDrift, DriftConfig, html};

use crate::browser::{chromium_or_skip, console_messages, run_chromium, screenshot};

/// 2026-01-01T00:16:34Z in microseconds: the raw number the report used to print.
const T0_US: i64 = 1_767_226_594_000_000;
const DAY_US: i64 = 86_400_000_000;

/// `missing_every`: every that many rows the timestamp and the count are null.
fn batches(shift: f64, n: usize, cats: &[&str], days_shift: i64, missing_every: usize) -> Vec<RecordBatch> {
    let x: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1000) as f64 / 100.0 + shift).collect();
    let s: Vec<&str> = (0..n).map(|i| cats[i % cats.len()]).collect();
    let missing = |i: usize| missing_every > 0 && i.is_multiple_of(missing_every);
    let at: Vec<Option<i64>> = (0..n)
        .map(|i| (!missing(i)).then(|| T0_US + ((i * 7919) % 60) as i64 * DAY_US + days_shift * DAY_US))
        .collect();
    let count: Vec<Option<i64>> = (0..n)
        .map(|i| (!missing(i)).then(|| ((i * 104_729) % 2_000_000) as i64))
        .collect();
    vec![
        RecordBatch::try_from_iter([
            ("amount <&> \"quoted\"", Arc::new(Float64Array::from(x)) as ArrayRef),
            ("segment", Arc::new(StringArray::from(s)) as ArrayRef),
            ("event_time", Arc::new(TimestampMicrosecondArray::from(at)) as ArrayRef),
            ("clicks", Arc::new(Int64Array::from(count)) as ArrayRef),
        ])
        .unwrap(),
    ]
}

/// The text of every `<text>` element (the axis labels), tags stripped.
fn axis_texts(page: &str) -> Vec<String> {
    page.split("<text ")
        .skip(1)
        .filter_map(|t| t.split_once('>').and_then(|(_, rest)| rest.split_once("</text>")))
        .map(|(inner, _)| {
            let mut out = String::new();
            let mut in_tag = false;
            for ch in inner.chars() {
                match ch {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => out.push(c),
                    _ => {}
                }
            }
            out
        })
        .collect()
}

#[test]
fn report_renders_in_headless_chromium_without_console_errors() {
    let Some(browser) = chromium_or_skip() else { return };
    let report = DataDrift::new(DriftConfig::default())
        .compare(
            &batches(0.0, 600, &["a", "b", "c"], 0, 0),
            &batches(2.5, 500, &["a", "b", "d", "d"], 20, 5),
        )
        .unwrap();
    assert!(report.dataset_drift);
    let page = html::render(&report, "Drift <test> report");
    let texts = axis_texts(&page);
    // Time axes read as dates, never as raw epoch numbers.
    assert!(!page.contains("1767"), "raw epoch numbers on the page");
    assert!(texts.iter().any(|t| t == "2026-01-01"), "{texts:?}");
    // Numeric labels are formatted for their scale: no fixed 4 decimals.
    let four_decimals = |t: &str| {
        t.split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .any(|w| w.split_once('.').is_some_and(|(_, d)| d.len() >= 4))
    };
    assert!(!texts.iter().any(|t| four_decimals(t)), "{texts:?}");
    assert!(
        texts.iter().any(|t| t == "2.000e6"),
        "large counts in scientific form: {texts:?}"
    );
    // The missing share is on every plot, and visible where it changed (0 % → 20 %).
    assert_eq!(page.matches("<g class=\"missing\">").count(), 4);
    assert!(
        texts.iter().any(|t| t.contains("missing: ref 0.0% / cur 20.0%")),
        "{texts:?}"
    );
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
    let profile = dir.path().join("chrome-profile");
    let dom = run_chromium(browser, &file, &profile, &["--dump-dom"]);
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom_text.contains("id=\"verdict\"") && dom_text.contains("Dataset drift detected"),
        "rendered DOM: {dom_text:.400}"
    );
    assert!(dom_text.matches("<svg").count() >= 4, "one plot per column");
    let console = console_messages(&dom);
    assert!(console.is_empty(), "console messages: {console:?}");

    screenshot(browser, &file, &profile, &shot, "1200,1400");
}
