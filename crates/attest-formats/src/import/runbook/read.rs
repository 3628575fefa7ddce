//! Reading one runbook file: front matter, then the list items of the body as steps.

use std::collections::BTreeMap;

use attest_attack::TechniqueId;
use attest_core::coverage::{Catalog, Claim, Unresolved};
use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde::Deserialize;

use crate::import::{check_yaml_shape, input_text, normalize_technique};
use crate::{Diagnostic, Input};

/// A runbook as read from its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runbook {
    /// The file's path label (relative to the runbook folder).
    pub file: String,
    /// Title: the front matter's `title`, else the body's first `# Heading`.
    pub title: String,
    /// Technique ids as written (upper-cased, ATT&CK-shaped), in file order, without repeats.
    pub techniques: Vec<String>,
    /// Platforms the runbook is for; empty: every platform.
    pub platforms: Vec<String>,
    /// Who owns it.
    pub owner: Option<String>,
    /// The list items of the body, in order (nested items as indented lines of their step).
    pub steps: Vec<String>,
    /// The line of each technique id in the file (same order as `techniques`), for warnings.
    technique_lines: Vec<Option<usize>>,
}

/// Why a runbook file cannot be used at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct RunbookError {
    /// The file's path label.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl RunbookError {
    fn new(file: &str, line: Option<usize>, message: impl Into<String>) -> RunbookError {
        RunbookError {
            file: file.to_string(),
            line,
            message: message.into(),
        }
    }
}

impl From<Diagnostic> for RunbookError {
    fn from(d: Diagnostic) -> RunbookError {
        RunbookError {
            file: d.path,
            line: d.line,
            message: d.message,
        }
    }
}

/// A technique id of a runbook resolved against the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// As written in the runbook.
    pub written: String,
    /// The current technique it counts for (itself, or its `revoked-by` replacement).
    pub current: TechniqueId,
}

/// One string or a list of them.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// The front matter. Keys other tools write (`tags`, `updated`, …) are kept out with a warning
/// rather than refused: runbook folders are shared with wikis and static-site generators.
#[derive(Debug, Deserialize)]
struct FrontMatter {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    techniques: Option<OneOrMany>,
    #[serde(default)]
    platforms: Option<OneOrMany>,
    #[serde(default)]
    owner: Option<String>,
    #[serde(flatten)]
    other: BTreeMap<String, yaml_serde::Value>,
}

/// The front matter's text, the line its first line has in the file, the body, and the line
/// the body starts on.
struct Split<'a> {
    yaml: &'a str,
    yaml_line: usize,
    body: &'a str,
}

fn split_front_matter<'a>(file: &str, text: &'a str) -> Result<Split<'a>, RunbookError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or("");
    if first.trim_end() != "---" {
        return Err(RunbookError::new(
            file,
            Some(1),
            "no YAML front matter: a runbook starts with a `---` line, then `title:` and \
             `techniques:`, then `---`",
        ));
    }
    let yaml_start = first.len();
    let mut offset = yaml_start;
    let mut line = 1;
    for l in lines {
        line += 1;
        if matches!(l.trim_end(), "---" | "...") {
            return Ok(Split {
                yaml: &text[yaml_start..offset],
                yaml_line: 2,
                body: &text[offset + l.len()..],
            });
        }
        offset += l.len();
    }
    Err(RunbookError::new(
        file,
        Some(1),
        format!(
            "the front matter opened on line 1 is never closed by a `---` line (read to line {line})"
        ),
    ))
}

/// `message` with every `line N` moved down by `by`: the YAML parser counts lines from the
/// start of the front matter, a reader from the start of the file.
fn shift_lines(message: &str, by: usize) -> String {
    let mut out = String::with_capacity(message.len() + 4);
    let mut rest = message;
    while let Some(at) = rest.find("line ") {
        let (before, after) = rest.split_at(at + "line ".len());
        out.push_str(before);
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        match after[..digits].parse::<usize>() {
            Ok(n) => out.push_str(&(n + by).to_string()),
            Err(_) => out.push_str(&after[..digits]),
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// The first line of the front matter (relative to `yaml_line`) holding `token` as a word.
fn line_in(yaml: &str, yaml_line: usize, token: &str) -> Option<usize> {
    crate::import::profile::token_line(yaml, token).map(|l| l + yaml_line - 1)
}

/// Reads one runbook. An error (no or unclosed front matter, invalid YAML, no title) names the
/// file and line; problems that leave the runbook usable (an id of the wrong shape, an unknown
/// key, no technique, no steps) are warnings beside it.
pub fn read_runbook(input: Input<'_>) -> Result<(Runbook, Vec<Diagnostic>), RunbookError> {
    let file = input.path;
    let text = input_text(&input)?;
    let split = split_front_matter(file, text)?;
    let mut warnings = Vec::new();
    let front: FrontMatter = if split.yaml.trim().is_empty() {
        FrontMatter {
            title: None,
            techniques: None,
            platforms: None,
            owner: None,
            other: BTreeMap::new(),
        }
    } else {
        check_yaml_shape(&input, split.yaml).map_err(|d| {
            RunbookError::new(file, d.line.map(|l| l + split.yaml_line - 1), d.message)
        })?;
        yaml_serde::from_str(split.yaml).map_err(|e| {
            RunbookError::new(
                file,
                e.location().map(|l| l.line() + split.yaml_line - 1),
                format!(
                    "invalid front matter: {}",
                    shift_lines(&e.to_string(), split.yaml_line - 1)
                ),
            )
        })?
    };
    for key in front.other.keys() {
        warnings.push(Diagnostic::warning(
            file,
            line_in(split.yaml, split.yaml_line, key),
            format!(
                "unknown front matter key `{key}` ignored (known: title, techniques, platforms, owner)"
            ),
        ));
    }
    let body = read_body(split.body);
    let title = front
        .title
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .or(body.heading)
        .ok_or_else(|| {
            RunbookError::new(
                file,
                Some(1),
                "no title: give `title:` in the front matter or start the body with `# Title`",
            )
        })?;
    let mut techniques = Vec::new();
    let mut technique_lines = Vec::new();
    for raw in front
        .techniques
        .map(OneOrMany::into_vec)
        .unwrap_or_default()
    {
        let line = line_in(split.yaml, split.yaml_line, raw.trim());
        match normalize_technique(&raw) {
            Some(id) if techniques.contains(&id) => {}
            Some(id) => {
                techniques.push(id);
                technique_lines.push(line);
            }
            None => warnings.push(Diagnostic::warning(
                file,
                line,
                format!("`{raw}` is not an ATT&CK technique id (T1234 or T1234.001); ignored"),
            )),
        }
    }
    if techniques.is_empty() {
        warnings.push(Diagnostic::warning(
            file,
            line_in(split.yaml, split.yaml_line, "techniques").or(Some(1)),
            "names no technique: no alert will ever be offered this runbook",
        ));
    }
    if body.steps.is_empty() {
        warnings.push(Diagnostic::warning(
            file,
            None,
            "has no list items, so no steps (steps are the body's `1.` or `-` items)",
        ));
    }
    let platforms = front
        .platforms
        .map(OneOrMany::into_vec)
        .unwrap_or_default()
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    let owner = front
        .owner
        .map(|o| o.trim().to_string())
        .filter(|o| !o.is_empty());
    Ok((
        Runbook {
            file: file.to_string(),
            title,
            techniques,
            platforms,
            owner,
            steps: body.steps,
            technique_lines,
        },
        warnings,
    ))
}

/// Resolves a runbook's technique ids against the catalog: current ids stay, revoked ones count
/// for their replacement (with a warning saying so), unknown, deprecated or dead-ended ones are
/// left out with a warning naming the id and its line.
pub fn resolve_techniques(
    runbook: &Runbook,
    catalog: &Catalog,
) -> (Vec<Resolved>, Vec<Diagnostic>) {
    let mut resolved: Vec<Resolved> = Vec::new();
    let mut warnings = Vec::new();
    for (written, line) in runbook.techniques.iter().zip(&runbook.technique_lines) {
        let current = match catalog.resolve(written) {
            Claim::Active(t) => t,
            Claim::Remapped { current, .. } => {
                warnings.push(Diagnostic::warning(
                    &runbook.file,
                    *line,
                    format!(
                        "{written} is revoked in the loaded ATT&CK release; it counts for {current}"
                    ),
                ));
                current
            }
            Claim::Unresolved(why) => {
                let reason = match why {
                    Unresolved::Malformed => "is not a technique id",
                    Unresolved::Unknown => "is unknown to the loaded ATT&CK release",
                    Unresolved::Deprecated => "is deprecated without replacement",
                    Unresolved::RevokedWithoutReplacement => {
                        "is revoked and its replacement cannot be found"
                    }
                };
                warnings.push(Diagnostic::warning(
                    &runbook.file,
                    *line,
                    format!("technique {written} {reason}; ignored"),
                ));
                continue;
            }
        };
        if !resolved.iter().any(|r| r.current == current) {
            resolved.push(Resolved {
                written: written.clone(),
                current,
            });
        }
    }
    (resolved, warnings)
}

/// What the body gives: the first level-1 heading and the steps.
struct Body {
    heading: Option<String>,
    steps: Vec<String>,
}

/// One open list: its next number when ordered.
struct OpenList {
    next: Option<u64>,
}

/// Collects the list items of a Markdown body. Each item of an outermost list is a step; items
/// of nested lists are appended to their step as indented lines (`  - text`, `  2. text`),
/// paragraphs and code blocks inside an item as further lines. Emphasis is dropped, inline code
/// keeps its backticks (commands stand out in a ticket), a link keeps its target in brackets.
fn read_body(body: &str) -> Body {
    let mut heading: Option<String> = None;
    let mut in_heading: Option<String> = None;
    let mut lists: Vec<OpenList> = Vec::new();
    let mut steps: Vec<String> = Vec::new();
    let mut step = String::new();
    // A line break is owed before the next text of the item (after a paragraph or a block).
    let mut owe_break = false;
    let mut links: Vec<(String, usize)> = Vec::new();
    let options = Options::ENABLE_TASKLISTS | Options::ENABLE_STRIKETHROUGH;
    let indent = |lists: &Vec<OpenList>| "  ".repeat(lists.len().saturating_sub(1));
    let push_text = |step: &mut String, owe_break: &mut bool, lists: &Vec<OpenList>, t: &str| {
        if *owe_break && !step.trim().is_empty() {
            let trimmed = step.trim_end().len();
            step.truncate(trimmed);
            step.push('\n');
            step.push_str(&indent(lists));
            step.push_str("  ");
        }
        *owe_break = false;
        step.push_str(t);
    };
    for event in Parser::new_ext(body, options) {
        match event {
            Event::Start(Tag::Heading {
                level: HeadingLevel::H1,
                ..
            }) if heading.is_none() && lists.is_empty() => in_heading = Some(String::new()),
            Event::End(TagEnd::Heading(_)) => {
                if let Some(h) = in_heading.take() {
                    let h = h.trim().to_string();
                    if !h.is_empty() {
                        heading = Some(h);
                    }
                }
            }
            Event::Text(t) | Event::Code(t) if in_heading.is_some() => {
                if let Some(h) = in_heading.as_mut() {
                    h.push_str(&t);
                }
            }
            Event::Start(Tag::List(start)) => {
                if !lists.is_empty() {
                    owe_break = false;
                }
                lists.push(OpenList { next: start });
            }
            Event::End(TagEnd::List(_)) => {
                lists.pop();
                owe_break = !lists.is_empty();
            }
            Event::Start(Tag::Item) => {
                let marker = match lists.last_mut() {
                    Some(OpenList { next: Some(n) }) => {
                        let m = format!("{n}. ");
                        *n += 1;
                        m
                    }
                    _ => "- ".to_string(),
                };
                if lists.len() > 1 {
                    let trimmed = step.trim_end().len();
                    step.truncate(trimmed);
                    step.push('\n');
                    step.push_str(&"  ".repeat(lists.len() - 2));
                    step.push_str(&marker);
                }
                owe_break = false;
            }
            Event::End(TagEnd::Item) if lists.len() == 1 => {
                let done = std::mem::take(&mut step);
                let done = done
                    .lines()
                    .map(str::trim_end)
                    .collect::<Vec<_>>()
                    .join("\n");
                let done = done.trim();
                if !done.is_empty() {
                    steps.push(done.to_string());
                }
                owe_break = false;
            }
            _ if lists.is_empty() => {}
            Event::End(TagEnd::Paragraph) => owe_break = true,
            Event::Start(Tag::CodeBlock(_)) | Event::End(TagEnd::CodeBlock) => owe_break = true,
            Event::Text(t) => {
                // A code block's text comes as whole lines: indent each under the item.
                if t.contains('\n') {
                    let pad = format!("{}  ", indent(&lists));
                    let block = t
                        .trim_end_matches('\n')
                        .split('\n')
                        .collect::<Vec<_>>()
                        .join(&format!("\n{pad}"));
                    push_text(&mut step, &mut owe_break, &lists, &block);
                    owe_break = true;
                } else {
                    push_text(&mut step, &mut owe_break, &lists, &t);
                }
            }
            Event::Code(c) => push_text(&mut step, &mut owe_break, &lists, &format!("`{c}`")),
            Event::SoftBreak => step.push(' '),
            Event::HardBreak => owe_break = true,
            Event::Start(Tag::Link { dest_url, .. }) => {
                links.push((dest_url.to_string(), step.len()));
            }
            Event::End(TagEnd::Link) => {
                if let Some((dest, from)) = links.pop() {
                    let shown = step.get(from..).unwrap_or("").trim();
                    if !dest.is_empty() && shown != dest {
                        step.push_str(&format!(" ({dest})"));
                    }
                }
            }
            _ => {}
        }
    }
    Body { heading, steps }
}
