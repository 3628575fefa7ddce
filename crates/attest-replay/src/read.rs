//! Reading event files: EVTX, JSON lines, concatenated (pretty-printed) JSON objects and JSON
//! arrays. Every reader streams: events are handed to a callback one at a time, so memory does
//! not grow with the file (a JSON array is the exception: it is one value).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use evtx::err::EvtxError;
use evtx::{EvtxParser, ParserSettings};
use serde_json::Value;

use crate::error::{Error, ReplayWarning};
use crate::normalize::{Normalized, normalize};

/// The kinds of event file replay reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Windows `.evtx`.
    Evtx,
    /// JSON: JSON lines, concatenated objects, or an array; EVTX-JSON shape or flat.
    Json,
}

/// EVTX files smaller than this are parsed on the calling thread: spawning workers costs more
/// than it gives on small files.
const SMALL_EVTX_BYTES: u64 = 16 * 1024 * 1024;

/// One event read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadEvent {
    /// The normalised event.
    pub normalized: Normalized,
    /// 1-based position of the event in its file.
    pub ordinal: u64,
}

/// What reading one file gave besides its events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileSummary {
    /// Events handed to the callback.
    pub events: u64,
    /// Records or chunks that were skipped, with the reason.
    pub warnings: Vec<ReplayWarning>,
}

/// Guesses a file's format: the EVTX magic bytes, else the extension, else JSON.
pub fn detect_format(path: &Path) -> Result<Format, Error> {
    let mut magic = [0u8; 8];
    let mut file = File::open(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    let n = file.read(&mut magic).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    if n == 8 && &magic == b"ElfFile\0" {
        return Ok(Format::Evtx);
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default();
    Ok(if ext.eq_ignore_ascii_case("evtx") {
        Format::Evtx
    } else {
        Format::Json
    })
}

/// Whether a path looks like an event file replay can read (by extension).
pub fn is_event_file(path: &Path) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    matches!(ext.as_str(), "evtx" | "json" | "jsonl" | "ndjson")
}

/// Reads every event of `path`, calling `on_event` for each.
pub fn read_events(path: &Path, on_event: &mut dyn FnMut(ReadEvent)) -> Result<FileSummary, Error> {
    match detect_format(path)? {
        Format::Evtx => read_evtx(path, on_event),
        Format::Json => read_json(path, on_event),
    }
}

/// Reads an EVTX file. A corrupt chunk or record is skipped with a warning naming the file and
/// the chunk.
pub fn read_evtx(path: &Path, on_event: &mut dyn FnMut(ReadEvent)) -> Result<FileSummary, Error> {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(u64::MAX);
    let threads = if size < SMALL_EVTX_BYTES { 1 } else { 0 };
    let settings = ParserSettings::default().num_threads(threads).indent(false);
    let parser = EvtxParser::from_path(path).map_err(|e| Error::Evtx {
        path: path.to_owned(),
        message: error_chain(&e),
    })?;
    let mut parser = parser.with_configuration(settings);
    let mut summary = FileSummary::default();
    for record in parser.records_json_value() {
        match record {
            Ok(record) => {
                let Some(mut normalized) = normalize(record.data) else {
                    continue;
                };
                normalized.record_id = normalized.record_id.or(Some(record.event_record_id));
                if normalized.event.timestamp().is_none() {
                    normalized.event = normalized.event.with_timestamp(Some(record.timestamp));
                }
                summary.events += 1;
                on_event(ReadEvent {
                    normalized,
                    ordinal: summary.events,
                });
            }
            Err(e) => summary.warnings.push(ReplayWarning {
                path: path.to_owned(),
                chunk: chunk_of(&e),
                line: None,
                message: error_chain(&e),
            }),
        }
    }
    Ok(summary)
}

fn chunk_of(e: &EvtxError) -> Option<u64> {
    match e {
        EvtxError::FailedToParseChunk { chunk_id, .. } => Some(*chunk_id),
        EvtxError::FailedToReadRecordAt { chunk, .. } => *chunk,
        _ => None,
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Reads a JSON file of any of the supported layouts.
///
/// When the first value sits alone on the first line, the file is read as JSON lines, one line
/// at a time: a bad line is a warning and the rest still count. Otherwise the file is one stream
/// of values (pretty-printed objects back to back, or an array), where a syntax error ends the
/// file with a warning naming the line.
pub fn read_json(path: &Path, on_event: &mut dyn FnMut(ReadEvent)) -> Result<FileSummary, Error> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let mut reader = BufReader::with_capacity(1 << 16, File::open(path).map_err(io)?);
    let mut summary = FileSummary::default();
    let mut first = String::new();
    let mut line_no = 0u64;
    // Skip leading blank lines, then look at the first real line.
    loop {
        first.clear();
        if reader.read_line(&mut first).map_err(io)? == 0 {
            return Ok(summary);
        }
        line_no += 1;
        if !first.trim().is_empty() {
            break;
        }
    }
    let first_value = serde_json::from_str::<Value>(first.trim());
    match first_value {
        Ok(value) => {
            emit(value, path, &mut summary, on_event);
            let mut line = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line).map_err(io)? == 0 {
                    break;
                }
                line_no += 1;
                let text = line.trim();
                if text.is_empty() {
                    continue;
                }
                match serde_json::from_str::<Value>(text) {
                    Ok(value) => emit(value, path, &mut summary, on_event),
                    Err(e) => summary.warnings.push(ReplayWarning {
                        path: path.to_owned(),
                        chunk: None,
                        line: Some(line_no),
                        message: format!("invalid JSON line skipped: {e}"),
                    }),
                }
            }
        }
        Err(_) => {
            let first_line = line_no;
            let chained = std::io::Cursor::new(first.into_bytes()).chain(reader);
            let stream = serde_json::Deserializer::from_reader(chained).into_iter::<Value>();
            for value in stream {
                match value {
                    Ok(value) => emit(value, path, &mut summary, on_event),
                    Err(e) => {
                        summary.warnings.push(ReplayWarning {
                            path: path.to_owned(),
                            chunk: None,
                            line: Some(first_line - 1 + e.line() as u64),
                            message: format!("invalid JSON, rest of file skipped: {e}"),
                        });
                        break;
                    }
                }
            }
        }
    }
    Ok(summary)
}

fn emit(value: Value, path: &Path, summary: &mut FileSummary, on_event: &mut dyn FnMut(ReadEvent)) {
    match value {
        Value::Array(items) => {
            for item in items {
                emit_one(item, path, summary, on_event);
            }
        }
        other => emit_one(other, path, summary, on_event),
    }
}

fn emit_one(
    value: Value,
    path: &Path,
    summary: &mut FileSummary,
    on_event: &mut dyn FnMut(ReadEvent),
) {
    match normalize(value) {
        Some(normalized) => {
            summary.events += 1;
            on_event(ReadEvent {
                normalized,
                ordinal: summary.events,
            });
        }
        None => summary.warnings.push(ReplayWarning {
            path: path.to_owned(),
            chunk: None,
            line: None,
            message: format!(
                "value #{} is not a JSON object; skipped",
                summary.events + 1
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn read(text: &str, name: &str) -> (Vec<ReadEvent>, FileSummary) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let path = dir.path().join(name);
        let mut f = File::create(&path).unwrap_or_else(|e| panic!("create: {e}"));
        f.write_all(text.as_bytes())
            .unwrap_or_else(|e| panic!("write: {e}"));
        let mut events = Vec::new();
        let summary =
            read_events(&path, &mut |e| events.push(e)).unwrap_or_else(|e| panic!("read: {e}"));
        (events, summary)
    }

    #[test]
    fn json_lines_with_a_bad_line() {
        let (events, summary) = read("{\"a\":1}\n\nnot json\n{\"a\":2}\n", "x.jsonl");
        assert_eq!(events.len(), 2);
        assert_eq!(summary.warnings.len(), 1);
        assert_eq!(summary.warnings[0].line, Some(3));
        assert_eq!(
            events[1].normalized.event.get("a"),
            Some(&serde_json::json!(2))
        );
    }

    #[test]
    fn concatenated_pretty_objects() {
        let text = "{\n  \"Event\": {\"System\": {\"EventID\": 1, \"Channel\": \"C\"},\n \"EventData\": {\"Image\": \"a\"}}\n}\n{\n  \"Image\": \"b\"\n}\n";
        let (events, summary) = read(text, "x.json");
        assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
        assert_eq!(events.len(), 2);
        assert_eq!(
            events[0].normalized.event.get("Image"),
            Some(&serde_json::json!("a"))
        );
        assert_eq!(events[0].normalized.event.event_id(), Some(1));
        assert_eq!(events[1].ordinal, 2);
    }

    #[test]
    fn json_array() {
        let (events, _) = read("[{\"a\":1},{\"a\":2},3]", "x.json");
        assert_eq!(events.len(), 2);
    }

    #[test]
    fn truncated_pretty_json_warns_with_line() {
        let (events, summary) = read("{\n \"a\": 1\n}\n{\n \"a\": \n", "x.json");
        assert_eq!(events.len(), 1);
        assert_eq!(summary.warnings.len(), 1);
        assert!(summary.warnings[0].line.is_some());
    }

    #[test]
    fn garbage_evtx_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let path = dir.path().join("bad.evtx");
        std::fs::write(&path, b"ElfFile\0garbage").unwrap_or_else(|e| panic!("write: {e}"));
        let err = read_events(&path, &mut |_| {})
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("bad.evtx"), "{err}");
    }
}
