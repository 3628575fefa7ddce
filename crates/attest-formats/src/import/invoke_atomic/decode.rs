//! Text decoding and time parsing shared by the validation importers (execution logs, alert
//! exports, VECTR, result lines).
//!
//! Windows tools write CSV and JSON in several encodings: PowerShell 5's `Export-Csv` writes
//! ASCII by default, PowerShell 7 UTF-8 without BOM, `-Encoding UTF8` on PowerShell 5 adds a BOM,
//! and `-Encoding Unicode` (or `Out-File` on PowerShell 5) writes UTF-16 LE with a BOM. Every
//! importer decodes through [`decode_text`] so all of them accept all of these.

use std::borrow::Cow;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use crate::Diagnostic;

/// Decodes `bytes` to text: UTF-8 (BOM stripped), UTF-16 LE/BE with BOM, and UTF-16 LE without
/// BOM when every odd byte of an ASCII-looking prefix is zero. Invalid UTF-8 is decoded lossily
/// with a warning rather than dropping the file.
pub(crate) fn decode_text<'a>(path: &str, bytes: &'a [u8]) -> (Cow<'a, str>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return (utf8(path, rest, &mut diags), diags);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return (Cow::Owned(utf16(path, rest, true, &mut diags)), diags);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return (Cow::Owned(utf16(path, rest, false, &mut diags)), diags);
    }
    if looks_like_utf16le(bytes) {
        diags.push(Diagnostic::warning(
            path,
            None,
            "no byte-order mark but the bytes look like UTF-16 LE; decoded as UTF-16 LE",
        ));
        return (Cow::Owned(utf16(path, bytes, true, &mut diags)), diags);
    }
    (utf8(path, bytes, &mut diags), diags)
}

fn utf8<'a>(path: &str, bytes: &'a [u8], diags: &mut Vec<Diagnostic>) -> Cow<'a, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(e) => {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            diags.push(Diagnostic::warning(
                path,
                Some(line),
                "invalid UTF-8 (not ASCII, UTF-8 or UTF-16 with BOM); invalid bytes replaced by U+FFFD",
            ));
            String::from_utf8_lossy(bytes)
        }
    }
}

fn utf16(path: &str, bytes: &[u8], little_endian: bool, diags: &mut Vec<Diagnostic>) -> String {
    if !bytes.len().is_multiple_of(2) {
        diags.push(Diagnostic::warning(
            path,
            None,
            "UTF-16 text has an odd number of bytes; the last byte was dropped",
        ));
    }
    let units = bytes.chunks_exact(2).map(|c| {
        if little_endian {
            u16::from_le_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], c[1]])
        }
    });
    let mut bad = false;
    let text: String = char::decode_utf16(units)
        .map(|r| {
            r.unwrap_or_else(|_| {
                bad = true;
                char::REPLACEMENT_CHARACTER
            })
        })
        .collect();
    if bad {
        diags.push(Diagnostic::warning(
            path,
            None,
            "unpaired UTF-16 surrogates replaced by U+FFFD",
        ));
    }
    text
}

/// UTF-16 LE text of ASCII characters has a zero at every odd offset. Checking a prefix of 64
/// bytes is enough to tell it from UTF-8, which never contains NUL in these formats.
fn looks_like_utf16le(bytes: &[u8]) -> bool {
    let n = bytes.len().min(64) & !1;
    n >= 4 && bytes[..n].chunks_exact(2).all(|c| c[1] == 0 && c[0] != 0)
}

/// 1-based line numbers of CSV records from their byte offsets. The `csv` crate's own line count
/// is one short after CRLF line ends (the `\n` of a record's `\r\n` is read as the start of the
/// next record), and PowerShell writes CRLF, so the line is recounted from the text. Offsets
/// must be given in increasing order; counting is then linear in the file size overall.
pub(crate) struct LineCounter<'t> {
    text: &'t [u8],
    offset: usize,
    line: usize,
}

impl<'t> LineCounter<'t> {
    /// A counter over `text`.
    pub(crate) fn new(text: &'t str) -> Self {
        LineCounter {
            text: text.as_bytes(),
            offset: 0,
            line: 1,
        }
    }

    /// The line of the record starting at byte `start` (line-end bytes at `start` are skipped).
    pub(crate) fn line_of(&mut self, start: u64) -> usize {
        let mut start = usize::try_from(start)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        if start >= self.offset {
            self.line += self.text[self.offset..start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.offset = start;
        }
        self.line
    }
}

/// How a time string was interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeZoneUse {
    /// The string carried an offset (or `Z`), or was an epoch number.
    Explicit,
    /// The string had no offset and was read as UTC.
    AssumedUtc,
}

/// Parses the time shapes found in execution logs and SIEM exports: RFC 3339 / ISO 8601 with `Z`
/// or an offset (`+00:00` or `+0000`, `T` or space), the same without offset (read as UTC),
/// epoch seconds or milliseconds (integer or decimal; values above 10^11 are milliseconds), and
/// the US form `M/D/YYYY h:mm:ss AM` that Excel and Sentinel's CSV exports use (read as UTC).
pub(crate) fn parse_time(s: &str) -> Option<(Timestamp, TimeZoneUse)> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Some((ts, TimeZoneUse::Explicit));
    }
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return parse_epoch(s).map(|ts| (ts, TimeZoneUse::Explicit));
    }
    if let Ok(dt) = s.parse::<DateTime>() {
        return utc(dt);
    }
    let cleaned = s.replace(',', "");
    for format in [
        "%m/%d/%Y %I:%M:%S%.f %p",
        "%m/%d/%Y %H:%M:%S%.f",
        "%m/%d/%Y %I:%M %p",
    ] {
        if let Ok(dt) = jiff::fmt::strtime::parse(format, &cleaned).and_then(|t| t.to_datetime()) {
            return utc(dt);
        }
    }
    None
}

fn utc(dt: DateTime) -> Option<(Timestamp, TimeZoneUse)> {
    dt.to_zoned(TimeZone::UTC)
        .ok()
        .map(|z| (z.timestamp(), TimeZoneUse::AssumedUtc))
}

fn parse_epoch(s: &str) -> Option<Timestamp> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    let whole: i64 = int.parse().ok()?;
    if whole > 100_000_000_000 {
        return Timestamp::from_millisecond(whole).ok();
    }
    let mut nanos: i32 = 0;
    if !frac.is_empty() {
        let digits: String = frac.chars().take(9).collect();
        let scale = 10i32.pow(9 - digits.len() as u32);
        nanos = digits.parse::<i32>().ok()? * scale;
    }
    Timestamp::new(whole, nanos).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn decodes_every_windows_encoding() {
        let plain = "a,b\n1,2\n";
        let (t, d) = decode_text("p", plain.as_bytes());
        assert_eq!((t.as_ref(), d.len()), (plain, 0));

        let bom = [&[0xEF, 0xBB, 0xBF][..], plain.as_bytes()].concat();
        assert_eq!(decode_text("p", &bom).0, plain);

        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        let mut le_nobom = Vec::new();
        for u in "é,ü\n".encode_utf16() {
            le.extend(u.to_le_bytes());
            be.extend(u.to_be_bytes());
        }
        for u in "abcd,efgh\n".encode_utf16() {
            le_nobom.extend(u.to_le_bytes());
        }
        assert_eq!(decode_text("p", &le).0, "é,ü\n");
        assert_eq!(decode_text("p", &be).0, "é,ü\n");
        let (t, d) = decode_text("p", &le_nobom);
        assert_eq!(t, "abcd,efgh\n");
        assert_eq!(d.len(), 1);

        let (t, d) = decode_text("p", b"ok\n\xff\n");
        assert_eq!(t, "ok\n\u{FFFD}\n");
        assert_eq!(d[0].line, Some(2));
    }

    #[test]
    fn line_counter_handles_crlf_and_lf() {
        let text = "h\r\na\r\n\r\nb\nc";
        let mut lines = LineCounter::new(text);
        assert_eq!(lines.line_of(0), 1);
        assert_eq!(lines.line_of(2), 2, "the LF of the header's CRLF");
        assert_eq!(lines.line_of(5), 4, "a blank line in between");
        assert_eq!(lines.line_of(10), 5);
        assert_eq!(lines.line_of(99), 5);
    }

    #[test]
    fn parses_the_time_shapes_of_logs_and_siem_exports() {
        let noon = ts("2023-05-01T12:00:00Z");
        for s in [
            "2023-05-01T12:00:00Z",
            "2023-05-01 12:00:00Z",
            "2023-05-01T14:00:00+02:00",
            "2023-05-01T12:00:00.000+0000",
            "1682942400",
            "1682942400000",
        ] {
            assert_eq!(parse_time(s), Some((noon, TimeZoneUse::Explicit)), "{s}");
        }
        for s in [
            "2023-05-01T12:00:00",
            "2023-05-01 12:00:00",
            "5/1/2023 12:00:00 PM",
            "5/1/2023, 12:00:00.000 PM",
        ] {
            assert_eq!(parse_time(s), Some((noon, TimeZoneUse::AssumedUtc)), "{s}");
        }
        assert_eq!(
            parse_time("1682942400.25").map(|t| t.0),
            Some(ts("2023-05-01T12:00:00.25Z"))
        );
        assert_eq!(parse_time(""), None);
        assert_eq!(parse_time("yesterday"), None);
    }
}
