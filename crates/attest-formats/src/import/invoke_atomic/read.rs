//! Reading the default CSV logger's files.

use csv::StringRecord;

use super::decode::{LineCounter, TimeZoneUse, decode_text, parse_time};
use super::spec::{Columns, HeaderVersion};
use crate::correlate::Execution;
use crate::{Diagnostic, Input};

/// Reads one Invoke-AtomicRedTeam CSV execution log. Never fails as a whole: a file without a
/// recognisable header gives no executions and one error; bad rows are skipped with an error
/// naming their line.
pub fn read_execution_log(input: Input<'_>) -> (Vec<Execution>, Vec<Diagnostic>) {
    let (text, mut diags) = decode_text(input.path, input.bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        // PowerShell writes `#TYPE …` first unless -NoTypeInformation; data rows start with `"`.
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());

    let mut executions = Vec::new();
    let mut columns: Option<Columns> = None;
    let mut record = StringRecord::new();
    let mut lines = LineCounter::new(&text);
    loop {
        let line = lines.line_of(reader.position().byte());
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(line, |p| lines.line_of(p.byte()));
                diags.push(Diagnostic::error(
                    input.path,
                    Some(line),
                    format!("unreadable CSV: {e}; the rest of the file is skipped"),
                ));
                break;
            }
        }
        let line = record.position().map_or(line, |p| lines.line_of(p.byte()));
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let fields: Vec<&str> = record.iter().collect();
        if HeaderVersion::detect(&fields).is_some() {
            columns = Some(Columns::from_header(&fields));
            continue;
        }
        let Some(cols) = columns else {
            diags.push(Diagnostic::error(
                input.path,
                Some(line),
                "no Invoke-AtomicRedTeam header (expected columns \"Execution Time (UTC)\" and \"Technique\"); file skipped",
            ));
            return (Vec::new(), diags);
        };
        if let Some(e) = row(input.path, line, &record, &cols, &mut diags) {
            executions.push(e);
        }
    }
    if columns.is_none() && diags.iter().all(|d| d.severity != crate::Severity::Error) {
        diags.push(Diagnostic::error(
            input.path,
            None,
            "empty file: no header and no executions",
        ));
    }
    (executions, diags)
}

fn row(
    path: &str,
    line: usize,
    record: &StringRecord,
    cols: &Columns,
    diags: &mut Vec<Diagnostic>,
) -> Option<Execution> {
    let get = |i: Option<usize>| {
        i.and_then(|i| record.get(i))
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let Some(technique) = get(cols.technique) else {
        diags.push(Diagnostic::error(
            path,
            Some(line),
            "no Technique; row skipped",
        ));
        return None;
    };
    let technique = technique.to_ascii_uppercase();

    let utc = get(cols.time_utc);
    let started = match utc.and_then(parse_time) {
        Some((ts, _)) => ts,
        None => {
            // The local column's `Z` is a logger bug, not a zone: drop it and read the wall-clock
            // time as UTC, which is the best we can do without the host's zone.
            let local = get(cols.time_local).map(|s| s.trim_end_matches(['Z', 'z']));
            match local.and_then(parse_time) {
                Some((ts, _)) => {
                    diags.push(Diagnostic::warning(
                        path,
                        Some(line),
                        format!(
                            "{}; used the local execution time {} as if it were UTC",
                            match utc {
                                Some(u) => format!("unreadable UTC execution time {u:?}"),
                                None => "no UTC execution time".to_string(),
                            },
                            local.unwrap_or_default()
                        ),
                    ));
                    ts
                }
                None => {
                    diags.push(Diagnostic::error(
                        path,
                        Some(line),
                        format!(
                            "no readable execution time (UTC {:?}); row skipped",
                            utc.unwrap_or_default()
                        ),
                    ));
                    return None;
                }
            }
        }
    };
    if let Some(u) = utc
        && parse_time(u).is_some_and(|(_, z)| z == TimeZoneUse::AssumedUtc)
    {
        diags.push(Diagnostic::warning(
            path,
            Some(line),
            format!("UTC execution time {u:?} has no zone; read as UTC"),
        ));
    }

    let test_number = match get(cols.test_number) {
        Some(n) => match n.parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => {
                diags.push(Diagnostic::warning(
                    path,
                    Some(line),
                    format!("Test Number {n:?} is not a number; ignored"),
                ));
                None
            }
        },
        None => None,
    };
    let exit_code = match get(cols.exit_code) {
        Some(c) => match c.parse::<i64>() {
            Ok(c) => Some(c),
            Err(_) => {
                diags.push(Diagnostic::warning(
                    path,
                    Some(line),
                    format!("ExitCode {c:?} is not a number; treated as unknown"),
                ));
                None
            }
        },
        None => None,
    };
    Some(Execution {
        technique,
        test_guid: get(cols.guid).map(str::to_ascii_lowercase),
        test_name: get(cols.test_name).map(str::to_string),
        test_number,
        host: get(cols.host).map(str::to_string),
        user: get(cols.user).map(str::to_string),
        started,
        finished: None,
        exit_code,
        source: format!("{path}:{line}"),
    })
}
