//! A large JSON-lines file streams: memory does not grow with the file. (Alone in its own test
//! binary, so no other test's allocations blur the peak.)

use std::io::Write;

use attest_replay::read_events;

/// Peak resident memory of this process, in KiB (Linux).
fn peak_rss_kib() -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[test]
fn a_large_json_lines_file_is_read_in_constant_memory() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("big.jsonl");
    let lines = 200_000u64;
    {
        let file = std::fs::File::create(&path).unwrap_or_else(|e| panic!("{e}"));
        let mut out = std::io::BufWriter::new(file);
        for i in 0..lines {
            writeln!(
                out,
                r#"{{"Event":{{"System":{{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","EventRecordID":{i},"Computer":"host-{h}"}},"EventData":{{"Image":"C:\\Windows\\System32\\cmd.exe","CommandLine":"cmd.exe /c echo {i} padding padding padding padding padding padding padding","User":"CORP\\user{u}"}}}}}}"#,
                h = i % 97,
                u = i % 13
            )
            .unwrap_or_else(|e| panic!("{e}"));
        }
        out.flush().unwrap_or_else(|e| panic!("{e}"));
    }
    let size_mib = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) / (1024 * 1024);
    assert!(size_mib >= 40, "{size_mib} MiB");

    let Some(before) = peak_rss_kib() else {
        eprintln!("SKIPPED: no /proc/self/status on this system");
        return;
    };
    let mut seen = 0u64;
    let summary = read_events(&path, &mut |e| {
        seen += 1;
        assert!(e.normalized.event.get("Image").is_some());
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary.events, lines);
    assert_eq!(seen, lines);
    let after = peak_rss_kib().unwrap_or(u64::MAX);
    let grew_mib = after.saturating_sub(before) / 1024;
    assert!(
        grew_mib * 4 < size_mib,
        "reading a {size_mib} MiB file raised peak memory by {grew_mib} MiB"
    );
}
