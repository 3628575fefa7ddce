//! Writing the workbook with `rust_xlsxwriter`.

use rust_xlsxwriter::{Format, Workbook};

use super::spec::{Cell, Sheet, XlsxError};

/// Rows a worksheet holds, header included.
const MAX_ROWS: usize = 1_048_576;
/// Columns a worksheet holds.
const MAX_COLUMNS: usize = 16_384;

/// The workbook's bytes (an `.xlsx` file), one worksheet per sheet in the order given.
pub fn write_workbook(sheets: &[Sheet]) -> Result<Vec<u8>, XlsxError> {
    check_names(sheets)?;
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    for sheet in sheets {
        let wrap = |source| XlsxError::Write {
            sheet: sheet.name.clone(),
            source,
        };
        let columns = sheet
            .rows
            .iter()
            .map(Vec::len)
            .chain([sheet.header.len()])
            .max()
            .unwrap_or(0);
        if sheet.rows.len() + 1 > MAX_ROWS || columns > MAX_COLUMNS {
            return Err(XlsxError::TooLarge {
                sheet: sheet.name.clone(),
                rows: sheet.rows.len(),
                columns,
            });
        }
        let ws = workbook.add_worksheet();
        ws.set_name(&sheet.name).map_err(wrap)?;
        // Widths in characters, from the longest value of each column.
        let mut widths = vec![0usize; columns];
        for (c, title) in sheet.header.iter().enumerate() {
            ws.write_string_with_format(0, col(c), title, &bold)
                .map_err(wrap)?;
            widths[c] = widths[c].max(title.chars().count());
        }
        for (r, row) in sheet.rows.iter().enumerate() {
            let r = (r + 1) as u32;
            for (c, cell) in row.iter().enumerate() {
                let len = match cell {
                    Cell::Text(s) => {
                        ws.write_string(r, col(c), s).map_err(wrap)?;
                        s.lines().map(|l| l.chars().count()).max().unwrap_or(0)
                    }
                    Cell::Number(n) if n.is_finite() => {
                        ws.write_number(r, col(c), *n).map_err(wrap)?;
                        format!("{n}").len()
                    }
                    Cell::Number(_) | Cell::Empty => 0,
                };
                widths[c] = widths[c].max(len);
            }
        }
        for (c, w) in widths.iter().enumerate() {
            ws.set_column_width(col(c), (*w as f64 + 2.0).clamp(8.0, 60.0))
                .map_err(wrap)?;
        }
        ws.set_freeze_panes(1, 0).map_err(wrap)?;
        if columns > 0 {
            ws.autofilter(0, 0, sheet.rows.len() as u32, col(columns - 1))
                .map_err(wrap)?;
        }
    }
    workbook
        .save_to_buffer()
        .map_err(|source| XlsxError::Write {
            sheet: String::new(),
            source,
        })
}

/// Column index as the library's type; sizes were checked against [`MAX_COLUMNS`].
fn col(c: usize) -> u16 {
    u16::try_from(c).unwrap_or(u16::MAX)
}

/// Excel's sheet-name rules, checked up front for a clear error.
fn check_names(sheets: &[Sheet]) -> Result<(), XlsxError> {
    let bad = |name: &str, reason| {
        Err(XlsxError::SheetName {
            name: name.to_string(),
            reason,
        })
    };
    let mut seen: Vec<String> = Vec::new();
    for s in sheets {
        let name = s.name.as_str();
        if name.trim().is_empty() {
            return bad(name, "empty");
        }
        if name.chars().count() > 31 {
            return bad(name, "longer than 31 characters");
        }
        if name.contains(['[', ']', ':', '*', '?', '/', '\\']) {
            return bad(name, "contains one of [ ] : * ? / \\");
        }
        if name.starts_with('\'') || name.ends_with('\'') {
            return bad(name, "starts or ends with an apostrophe");
        }
        let lower = name.to_lowercase();
        if seen.contains(&lower) {
            return bad(name, "used twice (sheet names ignore case)");
        }
        seen.push(lower);
    }
    Ok(())
}
