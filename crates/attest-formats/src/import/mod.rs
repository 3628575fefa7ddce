//! Importers, one folder per format. Each turns [`crate::Input`]s into typed records plus
//! [`crate::Diagnostic`]s.

// --- rule importers and inventory formats (issue #3) ---
pub mod csv_rules;
pub mod dettect;
pub mod elastic;
pub mod inventory;
pub mod kibana;
pub mod sentinel;
pub mod sigma;
pub mod splunk;
pub mod splunk_conf;
// --- end of issue #3 modules ---
// --- rule importer trait and shared helpers (issue #3) ---

/// The largest file any importer parses (16 MiB). The biggest published rule file is well under
/// 1 MiB and a Kibana export of ten thousand rules is about 30 MiB only with exceptions inlined,
/// so anything above this is refused with a clear error instead of being parsed: a 100 MB upload
/// must not cost seconds and gigabytes before failing.
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;

/// Turns one file into detection rules plus the problems found in it. Implemented by every rule
/// format (`sigma`, `elastic`, `kibana`, `splunk`, `splunk_conf`, `sentinel`, `csv_rules`).
///
/// An importer never panics and never does I/O: the caller lists and reads the files (see
/// [`select_files`]) and journals what comes back. A file that cannot be read at all yields no
/// rule and one [`crate::Severity::Error`] diagnostic naming the file and, where known, the line.
pub trait RuleImporter: Sync {
    /// The format this importer reads.
    fn format(&self) -> attest_core::rule::RuleFormat;
    /// File name endings (lowercase, without the dot) this importer reads in a folder.
    fn extensions(&self) -> &'static [&'static str];
    /// Parses one file.
    fn import(
        &self,
        input: crate::Input<'_>,
    ) -> (Vec<attest_core::rule::Rule>, Vec<crate::Diagnostic>);
}

/// Turns one file into inventory data sources plus the problems found in it (`inventory`,
/// `dettect`).
pub trait SourceImporter {
    /// Parses one file.
    fn import(
        &self,
        input: crate::Input<'_>,
    ) -> (Vec<attest_core::source::DataSource>, Vec<crate::Diagnostic>);
}

/// The importer for `format`, with `root` (the imported folder or SIEM name) recorded in every
/// rule's [`attest_core::rule::Origin::root`]. `None` for [`attest_core::rule::RuleFormat::Manual`].
pub fn rule_importer(
    format: attest_core::rule::RuleFormat,
    root: &str,
) -> Option<Box<dyn RuleImporter>> {
    use attest_core::rule::RuleFormat;
    let root = root.to_string();
    Some(match format {
        RuleFormat::Sigma => Box::new(sigma::SigmaImporter::new(root)),
        RuleFormat::Elastic => Box::new(elastic::ElasticImporter::new(root)),
        RuleFormat::Kibana => Box::new(kibana::KibanaImporter::new(root)),
        RuleFormat::Splunk => Box::new(splunk::SplunkImporter::new(root)),
        RuleFormat::SplunkConf => Box::new(splunk_conf::SplunkConfImporter::new(root)),
        RuleFormat::Sentinel => Box::new(sentinel::SentinelImporter::new(root)),
        RuleFormat::Csv => Box::new(csv_rules::CsvImporter::new(root)),
        _ => return None,
    })
}

/// The paths of a folder listing that `importer` reads, by file name ending (case-insensitive),
/// in the order given. Hidden files and folders (a path segment starting with `.`) are skipped,
/// as `.github/` workflows in rule repositories are YAML too.
pub fn select_files<'a>(importer: &dyn RuleImporter, paths: &[&'a str]) -> Vec<&'a str> {
    let exts = importer.extensions();
    paths
        .iter()
        .copied()
        .filter(|p| {
            let hidden = p
                .split(['/', '\\'])
                .any(|seg| seg.starts_with('.') && seg != "." && seg != "..");
            let lower = p.to_ascii_lowercase();
            !hidden
                && exts.iter().any(|e| {
                    lower.len() > e.len() + 1
                        && lower.ends_with(e)
                        && lower.as_bytes()[lower.len() - e.len() - 1] == b'.'
                })
        })
        .collect()
}

/// Imports many files with `importer`, in parallel on up to `threads` threads (0 means the
/// machine's parallelism), and returns rules and diagnostics in input order, as if imported one
/// by one. A rule whose id was already produced by an earlier file is dropped with an error
/// naming both files: the registry is keyed by id, and silently keeping either would hide a
/// copy-paste mistake in the rule repository.
pub fn import_rules(
    importer: &dyn RuleImporter,
    inputs: &[crate::Input<'_>],
    threads: usize,
) -> (Vec<attest_core::rule::Rule>, Vec<crate::Diagnostic>) {
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .clamp(1, inputs.len().max(1));
    let chunk = inputs.len().div_ceil(threads).max(1);
    let parts: Vec<(Vec<attest_core::rule::Rule>, Vec<crate::Diagnostic>)> = if threads == 1 {
        vec![import_chunk(importer, inputs)]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = inputs
                .chunks(chunk)
                .map(|part| scope.spawn(move || import_chunk(importer, part)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        })
    };
    let mut rules = Vec::new();
    let mut diags = Vec::new();
    let mut seen: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for (part_rules, part_diags) in parts {
        diags.extend(part_diags);
        for rule in part_rules {
            match seen.get(&rule.id.0) {
                Some(first) => diags.push(crate::Diagnostic::error(
                    &rule.origin.path,
                    None,
                    format!(
                        "duplicate rule id {} (first seen in {first}); this copy is skipped",
                        rule.id
                    ),
                )),
                None => {
                    seen.insert(rule.id.0.clone(), rule.origin.path.clone());
                    rules.push(rule);
                }
            }
        }
    }
    (rules, diags)
}

fn import_chunk(
    importer: &dyn RuleImporter,
    inputs: &[crate::Input<'_>],
) -> (Vec<attest_core::rule::Rule>, Vec<crate::Diagnostic>) {
    let mut rules = Vec::new();
    let mut diags = Vec::new();
    for input in inputs {
        // An importer is written not to panic, but a parser bug must cost one file, not the
        // whole import: the panic becomes an error naming the file.
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| importer.import(*input)));
        match result {
            Ok((r, d)) => {
                rules.extend(r);
                diags.extend(d);
            }
            Err(_) => diags.push(crate::Diagnostic::error(
                input.path,
                None,
                "internal error: the parser panicked on this file; it is skipped",
            )),
        }
    }
    (rules, diags)
}

/// The text of `input` after the checks every importer shares: not above [`MAX_INPUT_BYTES`],
/// valid UTF-8 (a leading byte-order mark is dropped) and not binary (no NUL byte).
pub(crate) fn input_text<'a>(input: &crate::Input<'a>) -> Result<&'a str, crate::Diagnostic> {
    let bytes = input.bytes;
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(crate::Diagnostic::error(
            input.path,
            None,
            format!(
                "file is {} bytes, above the {MAX_INPUT_BYTES}-byte limit for rule and inventory files; not parsed",
                bytes.len()
            ),
        ));
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            return Err(crate::Diagnostic::error(
                input.path,
                Some(line),
                format!(
                    "not valid UTF-8 (invalid byte at offset {}); binary or wrongly encoded file",
                    e.valid_up_to()
                ),
            ));
        }
    };
    if let Some(pos) = text.find('\0') {
        let line = text[..pos].matches('\n').count() + 1;
        return Err(crate::Diagnostic::error(
            input.path,
            Some(line),
            "contains a NUL byte; binary file, not text",
        ));
    }
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// The most YAML aliases (`*name`) one file may use. Published rules use none or a handful; a
/// "billion laughs" document needs many. yaml_serde also bounds alias expansion (to 100 times the
/// document's events), but refusing early keeps the error message clear and the cost linear.
pub(crate) const MAX_YAML_ALIASES: usize = 64;

/// The deepest flow nesting (`[` and `{`) one YAML file may have. The YAML scanner re-checks
/// every open level on each token, so a file of 100,000 `[` costs minutes; the deserializer
/// would refuse anything deeper than 128 levels anyway.
pub(crate) const MAX_YAML_DEPTH: usize = 128;

/// Refuses YAML text with more than [`MAX_YAML_ALIASES`] aliases or flow nesting deeper than
/// [`MAX_YAML_DEPTH`], in one linear pass before the parser sees it. Quoted scalars and comments
/// are skipped; brackets inside plain scalars are counted, which only matters for a file with
/// more than a hundred unbalanced ones.
pub(crate) fn check_yaml_shape(
    input: &crate::Input<'_>,
    text: &str,
) -> Result<(), crate::Diagnostic> {
    let bytes = text.as_bytes();
    let (mut aliases, mut depth, mut line) = (0usize, 0usize, 1usize);
    let (mut single, mut double, mut comment) = (false, false, false);
    let mut prev = b'\n';
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let boundary = matches!(
            prev,
            b' ' | b'\t' | b'\n' | b'\r' | b'[' | b'{' | b',' | b':'
        );
        if b == b'\n' {
            line += 1;
            comment = false;
        } else if comment {
        } else if single {
            if b == b'\'' {
                if bytes.get(i + 1) == Some(&b'\'') {
                    i += 1;
                } else {
                    single = false;
                }
            }
        } else if double {
            if b == b'\\' {
                i += 1;
            } else if b == b'"' {
                double = false;
            }
        } else {
            match b {
                b'#' if matches!(prev, b' ' | b'\t' | b'\n' | b'\r') => comment = true,
                b'\'' if boundary => single = true,
                b'"' if boundary => double = true,
                b'[' | b'{' => {
                    depth += 1;
                    if depth > MAX_YAML_DEPTH {
                        return Err(crate::Diagnostic::error(
                            input.path,
                            Some(line),
                            format!("YAML nested more than {MAX_YAML_DEPTH} levels deep; refused"),
                        ));
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                b'*' if boundary
                    && bytes
                        .get(i + 1)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-') =>
                {
                    aliases += 1;
                    if aliases > MAX_YAML_ALIASES {
                        return Err(crate::Diagnostic::error(
                            input.path,
                            Some(line),
                            format!(
                                "more than {MAX_YAML_ALIASES} YAML aliases; refused as a possible alias bomb"
                            ),
                        ));
                    }
                }
                _ => {}
            }
        }
        prev = b;
        i += 1;
    }
    Ok(())
}

/// A diagnostic for a yaml_serde error, with its line when the parser knows it.
pub(crate) fn yaml_error(path: &str, err: &yaml_serde::Error) -> crate::Diagnostic {
    crate::Diagnostic::error(
        path,
        err.location().map(|l| l.line()),
        format!("invalid YAML: {err}"),
    )
}

/// Lowercase hex SHA-256 of `bytes`: the content hash of imported rules.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A technique id as written (`t1059.001`, ` T1059 `) upper-cased and checked against the ATT&CK
/// shape `T` + 4 digits, optionally `.` + 3 digits. `None` if it does not have that shape.
pub fn normalize_technique(raw: &str) -> Option<String> {
    let s = raw.trim().to_ascii_uppercase();
    let b = s.as_bytes();
    let main = b.len() >= 5 && b[0] == b'T' && b[1..5].iter().all(u8::is_ascii_digit);
    let ok = main
        && (b.len() == 5
            || (b.len() == 9 && b[5] == b'.' && b[6..9].iter().all(u8::is_ascii_digit)));
    ok.then_some(s)
}

/// A tactic name in any published spelling (`Credential Access`, `credential_access`,
/// `CredentialAccess`, `credential-access`) as ATT&CK's short name (`credential-access`).
pub fn normalize_tactic(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 4);
    let mut prev_lower = false;
    for c in raw.trim().chars() {
        if c == ' ' || c == '_' || c == '-' {
            if !out.ends_with('-') && !out.is_empty() {
                out.push('-');
            }
            prev_lower = false;
        } else if c.is_ascii_uppercase() {
            if prev_lower && !out.ends_with('-') {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        }
    }
    out.trim_end_matches('-').to_string()
}

/// A published date (`2023/01/31`, `2023-01-31`, or an RFC 3339 timestamp such as Kibana's
/// `2024-05-21T10:00:00.000Z`) as `YYYY-MM-DD`; `None` when it is none of these.
pub(crate) fn normalize_date(raw: &str) -> Option<String> {
    let s = raw.trim();
    let day = s.get(..10).unwrap_or(s).replace('/', "-");
    let rest_ok = s.len() == 10
        || s.as_bytes()
            .get(10)
            .is_some_and(|b| *b == b'T' || *b == b' ');
    (rest_ok && day.parse::<jiff::civil::Date>().is_ok()).then_some(day)
}

/// The 1-based line of byte `offset` in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Pushes `item` unless already present (claims keep their first-seen order).
pub(crate) fn push_unique<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}
// --- end of issue #3 helpers ---

// --- tests, executions, alerts and validation results (issue #4) ---
pub mod alerts;
pub mod atomic;
pub mod attire;
pub mod invoke_atomic;
pub mod results_jsonl;
pub mod vectr;

/// Reads one execution log of Invoke-AtomicRedTeam in whichever form it is: Attire JSON when
/// its first character (after any byte-order mark) is `{`, the CSV logger's output otherwise.
pub fn read_executions(
    input: crate::Input<'_>,
) -> (Vec<crate::correlate::Execution>, Vec<crate::Diagnostic>) {
    let is_json = input
        .bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace() && **b != 0xEF && **b != 0xBB && **b != 0xBF)
        == Some(&b'{');
    if is_json {
        attire::read_attire(input)
    } else {
        invoke_atomic::read_execution_log(input)
    }
}
// --- profiles, intel, ownership and Navigator layers (issue #5) ---
pub mod dettect_groups;
pub mod navigator;
pub mod ownership;
pub mod profile;
pub mod stix_intel;
// --- exposures and their technique mappings (issue #8) ---
pub mod exposure_mappings;
pub mod exposures;
// --- runbooks for SOAR enrichment (issue #6) ---
pub mod runbook;
