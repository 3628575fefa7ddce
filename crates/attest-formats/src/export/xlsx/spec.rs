//! Sheets, cells and errors of the workbook writer.

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text, written as a string (never as a formula).
    Text(String),
    /// A number; non-finite numbers are written as empty cells.
    Number(f64),
    /// Nothing.
    Empty,
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<f64> for Cell {
    fn from(n: f64) -> Self {
        Cell::Number(n)
    }
}

impl From<usize> for Cell {
    fn from(n: usize) -> Self {
        Cell::Number(n as f64)
    }
}

/// One worksheet: a name, a header row and data rows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sheet {
    /// Sheet name (1–31 characters, none of `[ ] : * ? / \`).
    pub name: String,
    /// Column titles.
    pub header: Vec<String>,
    /// Rows; a row may be shorter or longer than the header.
    pub rows: Vec<Vec<Cell>>,
}

/// Why a workbook could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum XlsxError {
    /// A sheet name Excel refuses.
    #[error("sheet name `{name}` is not allowed: {reason}")]
    SheetName {
        /// The name.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// A sheet larger than a worksheet can hold.
    #[error(
        "sheet `{sheet}` has {rows} rows and {columns} columns; a worksheet holds at most 1,048,575 data rows and 16,384 columns"
    )]
    TooLarge {
        /// The sheet.
        sheet: String,
        /// Data rows.
        rows: usize,
        /// Columns.
        columns: usize,
    },
    /// The writer library failed.
    #[error("sheet `{sheet}`: {source}")]
    Write {
        /// The sheet being written.
        sheet: String,
        /// The library's error.
        source: rust_xlsxwriter::XlsxError,
    },
}
