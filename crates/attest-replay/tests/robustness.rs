//! Damaged input: a corrupt EVTX chunk is skipped with a warning naming the file and the chunk,
//! and the chunks around it are still read.

mod common;

use std::path::Path;

use attest_replay::read_events;

/// EVTX layout: a 4 KiB file header, then 64 KiB chunks each starting with `ElfChnk\0`.
const FILE_HEADER: usize = 4096;
const CHUNK: usize = 65536;

fn records(path: &Path) -> (u64, Vec<attest_replay::ReplayWarning>) {
    let mut n = 0;
    let summary = read_events(path, &mut |_| n += 1).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary.events, n);
    (n, summary.warnings)
}

#[test]
fn a_corrupt_evtx_chunk_is_skipped_with_a_warning_naming_file_and_chunk() {
    let Some(corpora) = common::corpora_dir("a_corrupt_evtx_chunk_is_skipped") else {
        return;
    };
    // A recorded one-chunk sample, made into three chunks with the middle one broken.
    let sample = corpora.join(
        "sigma/regression_data/rules/windows/process_creation/proc_creation_win_bitsadmin_download_direct_ip/99c840f2-2012-46fd-9141-c761987550ef.evtx",
    );
    let bytes = std::fs::read(&sample).unwrap_or_else(|e| panic!("{}: {e}", sample.display()));
    assert_eq!(bytes.len(), FILE_HEADER + CHUNK, "the sample has one chunk");
    let (good, warnings) = records(&sample);
    assert!(good > 0 && warnings.is_empty(), "{warnings:?}");

    let chunk = &bytes[FILE_HEADER..];
    let mut broken = chunk.to_vec();
    broken[..8].copy_from_slice(b"Garbage\0");
    for b in broken.iter_mut().skip(512).step_by(7) {
        *b ^= 0x5a;
    }
    let mut file = bytes[..FILE_HEADER].to_vec();
    file.extend_from_slice(chunk);
    file.extend_from_slice(&broken);
    file.extend_from_slice(chunk);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("damaged.evtx");
    std::fs::write(&path, &file).unwrap_or_else(|e| panic!("{e}"));

    let (n, warnings) = records(&path);
    assert_eq!(n, 2 * good, "both intact chunks are read");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].chunk, Some(1));
    assert_eq!(warnings[0].path, path);
    let text = warnings[0].to_string();
    assert!(
        text.contains("damaged.evtx") && text.contains("chunk 1"),
        "{text}"
    );
}
