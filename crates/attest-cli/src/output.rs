//! Printing answers: one place turns tables and documents into table, JSON, CSV or Markdown text.
//!
//! Commands build a [`Table`] (for listings) or a JSON document plus a text rendering (for detail
//! views) and hand it here; they never format output themselves. JSON keys are the column names in
//! snake_case, so `--format json` and `--format csv` carry the same fields.

use std::io::Write;

use anyhow::Result;

/// Output format of listings and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// JSON for programs.
    Json,
    /// CSV for spreadsheets.
    Csv,
    /// Markdown for reports and tickets.
    Md,
}

/// A listing: named columns and rows of text cells.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Column names (snake_case; used as JSON keys and CSV header).
    pub columns: Vec<&'static str>,
    /// Rows, each as long as `columns`.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these columns.
    pub fn new(columns: &[&'static str]) -> Table {
        Table {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (cells beyond the columns are dropped; missing cells are empty).
    pub fn push(&mut self, mut row: Vec<String>) {
        row.resize(self.columns.len(), String::new());
        self.rows.push(row);
    }

    /// Writes the table in `format`.
    pub fn write(&self, format: Format, out: &mut dyn Write) -> Result<()> {
        match format {
            Format::Table => self.write_text(out),
            Format::Json => {
                let doc = self.to_json();
                serde_json::to_writer_pretty(&mut *out, &doc)?;
                writeln!(out)?;
                Ok(())
            }
            Format::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(&self.columns)?;
                for row in &self.rows {
                    w.write_record(row)?;
                }
                w.flush()?;
                Ok(())
            }
            Format::Md => self.write_markdown(out),
        }
    }

    /// The table as a JSON array of objects.
    pub fn to_json(&self) -> serde_json::Value {
        let rows = self
            .rows
            .iter()
            .map(|row| {
                let obj = self
                    .columns
                    .iter()
                    .zip(row)
                    .map(|(k, v)| ((*k).to_string(), serde_json::Value::String(v.clone())))
                    .collect::<serde_json::Map<_, _>>();
                serde_json::Value::Object(obj)
            })
            .collect();
        serde_json::Value::Array(rows)
    }

    fn write_text(&self, out: &mut dyn Write) -> Result<()> {
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(display_width(&clip(cell)));
            }
        }
        let last = self.columns.len().saturating_sub(1);
        let header: Vec<String> = self.columns.iter().map(|c| c.to_uppercase()).collect();
        write_text_row(out, &header, &widths, last)?;
        for row in &self.rows {
            write_text_row(out, row, &widths, last)?;
        }
        Ok(())
    }

    fn write_markdown(&self, out: &mut dyn Write) -> Result<()> {
        writeln!(out, "| {} |", self.columns.join(" | "))?;
        writeln!(out, "|{}", " --- |".repeat(self.columns.len()))?;
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(|c| markdown_cell(c)).collect();
            writeln!(out, "| {} |", cells.join(" | "))?;
        }
        Ok(())
    }
}

fn write_text_row(
    out: &mut dyn Write,
    row: &[String],
    widths: &[usize],
    last: usize,
) -> Result<()> {
    let mut line = String::new();
    for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
        let cell = clip(&one_line(cell));
        if i == last {
            line.push_str(&cell);
        } else {
            line.push_str(&cell);
            line.push_str(&" ".repeat(w.saturating_sub(display_width(&cell)) + 2));
        }
    }
    writeln!(out, "{}", line.trim_end())?;
    Ok(())
}

/// The widest a cell gets in a terminal table; JSON, CSV and Markdown keep the whole text.
const MAX_CELL: usize = 100;

fn clip(s: &str) -> String {
    if s.chars().count() <= MAX_CELL {
        return s.to_string();
    }
    let mut out: String = s.chars().take(MAX_CELL - 1).collect();
    out.push('…');
    out
}

fn display_width(s: &str) -> usize {
    s.chars().filter(|c| *c != '\n').count()
}

/// Cells are one line in a terminal table; untrusted text must not inject control sequences.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn markdown_cell(s: &str) -> String {
    one_line(s).replace('|', "\\|")
}

/// Writes a detail document: JSON as is for `--format json`, otherwise the text rendering.
pub fn write_document(
    format: Format,
    doc: &serde_json::Value,
    text: impl FnOnce(&mut dyn Write) -> Result<()>,
    out: &mut dyn Write,
) -> Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, doc)?;
            writeln!(out)?;
            Ok(())
        }
        _ => text(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new(&["id", "title"]);
        t.push(vec!["r1".into(), "Mimikatz | \"LSASS\"\naccess".into()]);
        t
    }

    #[test]
    fn csv_quotes_and_json_keys_match_columns() {
        let t = sample();
        let mut out = Vec::new();
        t.write(Format::Csv, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("id,title\n"));
        assert!(text.contains("\"Mimikatz | \"\"LSASS\"\"\naccess\""));
        let json = t.to_json();
        assert_eq!(json[0]["id"], "r1");
    }

    #[test]
    fn text_table_flattens_control_characters() {
        let mut out = Vec::new();
        sample().write(Format::Table, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.starts_with("ID  TITLE"));
    }

    #[test]
    fn text_table_clips_long_cells_but_csv_keeps_them() {
        let mut t = Table::new(&["id", "detail"]);
        t.push(vec!["x".into(), "y".repeat(500)]);
        let mut out = Vec::new();
        t.write(Format::Table, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.lines().all(|l| l.chars().count() < 120), "{text}");
        let mut out = Vec::new();
        t.write(Format::Csv, &mut out).unwrap();
        assert!(String::from_utf8(out).unwrap().contains(&"y".repeat(500)));
    }

    #[test]
    fn markdown_escapes_pipes() {
        let mut out = Vec::new();
        sample().write(Format::Md, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("Mimikatz \\| "), "{text}");
    }
}
