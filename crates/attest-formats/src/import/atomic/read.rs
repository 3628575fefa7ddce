//! Reading Atomic Red Team technique files into tests.

use std::collections::HashSet;

use attest_core::test::{Test, TestKind};

use super::spec::{OneOrMany, RawTechnique};
use crate::import::invoke_atomic::decode::decode_text;
use crate::{Diagnostic, Input};

/// The tests of a whole `atomics/` folder, deduplicated by GUID.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalogue {
    /// Tests in input order, then file order. Ids are unique.
    pub tests: Vec<Test>,
    /// Technique files that parsed (with or without tests).
    pub techniques: usize,
    /// Problems, naming file and line.
    pub diagnostics: Vec<Diagnostic>,
}

/// Whether `path` names an Atomic technique file: its file name is `T1234.yaml` or
/// `T1234.001.yaml` (`.yml` too). The CLI uses it to pick files out of an `atomics/` tree, which
/// also holds `src/`, `bin/` and Markdown files.
pub fn is_technique_file(path: &str) -> bool {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let Some(stem) = name
        .strip_suffix(".yaml")
        .or_else(|| name.strip_suffix(".yml"))
    else {
        return false;
    };
    is_technique_id(stem)
}

/// `T` + 4 digits, optionally `.` + 3 digits.
fn is_technique_id(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: &[u8]| r.iter().all(u8::is_ascii_digit);
    match b.len() {
        5 => (b[0] == b'T' || b[0] == b't') && digits(&b[1..5]),
        9 => (b[0] == b'T' || b[0] == b't') && digits(&b[1..5]) && b[5] == b'.' && digits(&b[6..9]),
        _ => false,
    }
}

/// Reads every technique file and merges their tests; a GUID already seen is skipped with a
/// warning (the first file wins, so pass inputs in a stable order, e.g. sorted by path).
///
/// Files are parsed on all available cores (YAML scanning is the whole cost, and files are
/// independent); the result is the same, in the same order, as parsing them one by one.
pub fn read_catalogue<'a>(inputs: impl IntoIterator<Item = Input<'a>>) -> Catalogue {
    let inputs: Vec<Input<'a>> = inputs.into_iter().collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, inputs.len().max(1));
    let parsed: Vec<Parsed> = if threads == 1 {
        inputs.iter().map(|i| parse(*i)).collect()
    } else {
        let chunk = inputs.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = inputs
                .chunks(chunk)
                .map(|part| {
                    (
                        part,
                        scope.spawn(move || part.iter().map(|i| parse(*i)).collect::<Vec<_>>()),
                    )
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|(part, handle)| {
                    // A parser bug must cost its files, not the import: report them instead.
                    handle.join().unwrap_or_else(|_| {
                        part.iter()
                            .map(|i| {
                                (
                                    None,
                                    vec![Diagnostic::error(
                                        i.path,
                                        None,
                                        "internal error: the YAML parser panicked; file skipped",
                                    )],
                                )
                            })
                            .collect()
                    })
                })
                .collect()
        })
    };

    let mut catalogue = Catalogue::default();
    let mut seen: HashSet<String> = HashSet::new();
    for (input, (tests, diags)) in inputs.iter().zip(parsed) {
        catalogue.diagnostics.extend(diags);
        let Some(tests) = tests else { continue };
        catalogue.techniques += 1;
        for test in tests {
            if seen.insert(test.id.clone()) {
                catalogue.tests.push(test);
            } else {
                catalogue.diagnostics.push(Diagnostic::warning(
                    input.path,
                    None,
                    format!(
                        "test {} appears more than once; the first one is kept",
                        test.id
                    ),
                ));
            }
        }
    }
    catalogue
}

/// Tests of one file (`None` if it did not parse) and its diagnostics.
type Parsed = (Option<Vec<Test>>, Vec<Diagnostic>);

/// Reads one `Txxxx.yaml` file. Never fails as a whole: a file that is not valid YAML of the
/// expected shape gives no tests and an error naming the line.
pub fn read_technique(input: Input<'_>) -> (Vec<Test>, Vec<Diagnostic>) {
    let (tests, diags) = parse(input);
    (tests.unwrap_or_default(), diags)
}

/// [`read_technique`], telling a file that did not parse (`None`) from one without tests.
fn parse(input: Input<'_>) -> Parsed {
    // The same limits as the rule importers: technique files are tens of kilobytes, so a huge
    // file, an alias bomb or absurd nesting is refused before the parser spends time on it.
    if input.bytes.len() > crate::import::MAX_INPUT_BYTES {
        let message = format!(
            "file is {} bytes, above the {}-byte limit; not parsed",
            input.bytes.len(),
            crate::import::MAX_INPUT_BYTES
        );
        return (None, vec![Diagnostic::error(input.path, None, message)]);
    }
    let (text, mut diags) = decode_text(input.path, input.bytes);
    if let Err(d) = crate::import::check_yaml_shape(&input, &text) {
        diags.push(d);
        return (None, diags);
    }
    // Fast path: the YAML with the block scalars we do not read blanked out. If that does not
    // parse (or the file has none), the original text is parsed, so errors and results are
    // always those of the real file.
    let stripped = strip_unread_blocks(&text);
    let fast = stripped
        .as_deref()
        .and_then(|s| yaml_serde::from_str::<RawTechnique>(s).ok());
    let full = match fast {
        Some(raw) => Ok(raw),
        None => yaml_serde::from_str::<RawTechnique>(&text),
    };
    let raw: RawTechnique = match full {
        Ok(raw) => raw,
        Err(e) => {
            let line = e.location().map(|l| l.line());
            diags.push(Diagnostic::error(
                input.path,
                line,
                format!("not a valid Atomic Red Team technique file: {e}"),
            ));
            return (None, diags);
        }
    };

    let techniques: Vec<String> = match raw.attack_technique {
        Some(OneOrMany::One(t)) => vec![t],
        Some(OneOrMany::Many(ts)) => ts,
        None => Vec::new(),
    }
    .into_iter()
    .map(|t| t.trim().to_ascii_uppercase())
    .filter(|t| !t.is_empty())
    .collect();
    let techniques = if techniques.is_empty() {
        // The folder layout names the technique too; use it rather than lose the tests.
        let name = input.path.rsplit(['/', '\\']).next().unwrap_or(input.path);
        let stem = name.split_once(".y").map_or(name, |(s, _)| s);
        if !is_technique_id(stem) {
            diags.push(Diagnostic::error(
                input.path,
                Some(1),
                "no attack_technique and the file name is not a technique ID; file skipped",
            ));
            return (None, diags);
        }
        diags.push(Diagnostic::warning(
            input.path,
            Some(1),
            format!(
                "no attack_technique; using {} from the file name",
                stem.to_ascii_uppercase()
            ),
        ));
        vec![stem.to_ascii_uppercase()]
    } else {
        for t in &techniques {
            if !is_technique_id(t) {
                diags.push(Diagnostic::warning(
                    input.path,
                    Some(1),
                    format!("attack_technique {t:?} is not a technique ID (T1234 or T1234.001)"),
                ));
            }
        }
        techniques
    };

    let mut tests = Vec::new();
    let mut cursor = 0usize;
    for (index, raw_test) in raw.atomic_tests.unwrap_or_default().into_iter().enumerate() {
        let number = index + 1;
        let name = raw_test.name.unwrap_or_default().trim().to_string();
        // Locate the test in the text for messages: serde does not report positions of values
        // that deserialized fine, and the names appear in file order.
        let line = locate(&text, &name, &mut cursor);
        let Some(guid) = raw_test
            .auto_generated_guid
            .map(|g| g.trim().to_ascii_lowercase())
            .filter(|g| !g.is_empty())
        else {
            diags.push(Diagnostic::warning(
                input.path,
                line,
                format!("test #{number} {name:?} has no auto_generated_guid; skipped (results cannot refer to it)"),
            ));
            continue;
        };
        if !looks_like_guid(&guid) {
            diags.push(Diagnostic::warning(
                input.path,
                line,
                format!("test #{number} {name:?}: auto_generated_guid {guid:?} is not a GUID; kept as written"),
            ));
        }
        let (executor, elevation_required) = match raw_test.executor {
            Some(e) => (
                e.name
                    .map(|n| n.trim().to_string())
                    .filter(|n| !n.is_empty()),
                e.elevation_required.unwrap_or(false),
            ),
            None => (None, false),
        };
        if executor.is_none() {
            diags.push(Diagnostic::warning(
                input.path,
                line,
                format!("test #{number} {name:?} has no executor.name"),
            ));
        }
        tests.push(Test {
            id: guid,
            kind: TestKind::Atomic,
            techniques: techniques.clone(),
            name,
            platforms: raw_test
                .supported_platforms
                .into_iter()
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect(),
            executor,
            elevation_required,
        });
    }
    (Some(tests), diags)
}

/// Keys whose values the catalogue reads; their block scalars are never blanked.
const READ_KEYS: &[&str] = &[
    "attack_technique",
    "atomic_tests",
    "name",
    "auto_generated_guid",
    "supported_platforms",
    "executor",
    "elevation_required",
];

/// The text with the nested lines of keys the catalogue does not read replaced by empty
/// lines: the content of literal and folded block scalars (`description: |`, `command: >-`)
/// and of nested blocks (`input_arguments:`, `dependencies:` followed by more-indented lines).
/// Descriptions, commands, arguments and prerequisites are most of an Atomic file's bytes, and
/// the YAML scanner otherwise reads them character by character. The key stays, with an empty
/// value, so the YAML stays valid; line numbers are unchanged (one `\n` per blanked line).
/// `None` when nothing was blanked. The caller falls back to the full text if the result does
/// not parse, and a corpus test checks both give the same tests.
pub(super) fn strip_unread_blocks(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut block_indent: Option<usize> = None;
    let mut blanked = false;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        if let Some(key_indent) = block_indent {
            let indent = body.len() - body.trim_start_matches(' ').len();
            if body.trim().is_empty() || indent > key_indent {
                out.push('\n');
                blanked = true;
                continue;
            }
            block_indent = None;
        }
        out.push_str(line);
        let t = body.trim_end();
        let Some(head) = ["|", "|-", "|+", ">", ">-", ">+"]
            .iter()
            .find_map(|ind| t.strip_suffix(ind).and_then(|h| h.strip_suffix(": ")))
            .or_else(|| t.strip_suffix(':'))
        else {
            continue;
        };
        // `head` is `  key` or `  - key`; the value's lines are indented past the key.
        let lead = head.len() - head.trim_start_matches([' ', '-']).len();
        let key = head[lead..].trim();
        let simple = !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if simple && !READ_KEYS.contains(&key) {
            block_indent = Some(lead);
        }
    }
    blanked.then_some(out)
}

/// Finds `needle` at or after `*cursor`, moves the cursor past it and returns its 1-based line.
fn locate(text: &str, needle: &str, cursor: &mut usize) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    let start = (*cursor).min(text.len());
    let at = text.get(start..)?.find(needle)? + start;
    *cursor = at + needle.len();
    Some(
        text.as_bytes()[..at]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1,
    )
}

fn looks_like_guid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}
