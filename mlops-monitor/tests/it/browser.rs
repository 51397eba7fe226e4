//! Headless Chromium for the page tests: found on the PATH, run bounded in time.
//!
//! `.ci/run` installs Debian's `chromium`; `MLOPS_SKIP_BROWSER=1` skips the tests explicitly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

/// `None` when `MLOPS_SKIP_BROWSER=1`; otherwise the browser (and a clear
/// failure when there is none).
pub(crate) fn chromium_or_skip() -> Option<&'static str> {
    if std::env::var("MLOPS_SKIP_BROWSER").is_ok_and(|v| v == "1") {
        eprintln!("MLOPS_SKIP_BROWSER=1: skipping the browser test");
        return None;
    }
    let found = ["chromium", "chromium-browser", "google-chrome"].into_iter().find(|b| {
        Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    Some(
        found
            .expect("Chromium is needed for this test (Debian: apt-get install chromium), or set MLOPS_SKIP_BROWSER=1"),
    )
}

/// Opens `page` in headless Chromium with `extra` flags (a fresh profile in
/// `profile`, no network), and returns what it printed; at most 60 s.
pub(crate) fn run_chromium(browser: &str, page: &Path, profile: &Path, extra: &[&str]) -> Output {
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
    let mut child = Command::new(browser)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
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
}

/// Console messages Chromium logged while rendering.
pub(crate) fn console_messages(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains("CONSOLE"))
        .map(str::to_owned)
        .collect()
}

/// A screenshot of `page` into `shot`; checks it is a real PNG.
pub(crate) fn screenshot(browser: &str, page: &Path, profile: &Path, shot: &Path, size: &str) {
    let _ = std::fs::remove_file(shot);
    let out = run_chromium(
        browser,
        page,
        profile,
        &[
            &format!("--screenshot={}", shot.display()),
            &format!("--window-size={size}"),
            "--hide-scrollbars",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let png = std::fs::read(shot).expect("a screenshot is written");
    assert!(png.len() > 5_000 && png.starts_with(b"\x89PNG"), "{} bytes", png.len());
}
