//! Pipelined gunzip for the fast path: a helper thread inflates the bundle and hands it over in
//! pieces that each parse on their own, so that parsing overlaps decompression.
//!
//! A piece ends after a top-level object: the text is cut at `}` `,` `{"type"` (whitespace
//! allowed between), which cannot occur inside a JSON string because the quotes would have to be
//! escaped there. Each piece is made a small bundle of its own: `]}` closes the first one, and
//! the following ones open with `{"objects":[`. If a cut ever lands inside a nested object that
//! starts with `"type"`, the piece is unbalanced and fails to parse, and the caller falls back to
//! the sequential robust path, so the heuristic can cost time but never correctness.

use std::io::Read;
use std::sync::mpsc::SyncSender;

/// Decompressed bytes per piece (the last piece of a bundle may be shorter).
pub(crate) const PIECE: usize = 1 << 20;

const OPEN: &[u8] = b"{\"objects\":[";
const CLOSE: &[u8] = b"]}";

/// The index of the last non-whitespace byte before `i`.
fn skip_ws_back(buf: &[u8], mut i: usize) -> Option<usize> {
    while i > 0 {
        i -= 1;
        if !buf.get(i)?.is_ascii_whitespace() {
            return Some(i);
        }
    }
    None
}

/// Finds the last boundary between two top-level objects at or after `min`: returns the end of
/// the left object (just past its `}`) and the start of the next (its `{`).
pub(crate) fn find_boundary(buf: &[u8], min: usize) -> Option<(usize, usize)> {
    let finder = memchr::memmem::FinderRev::new(b"\"type\"");
    let mut end = buf.len();
    while let Some(q) = finder.rfind(buf.get(..end)?) {
        if q < min {
            return None;
        }
        end = q;
        let Some(open) = skip_ws_back(buf, q).filter(|&i| buf.get(i) == Some(&b'{')) else {
            continue;
        };
        let Some(comma) = skip_ws_back(buf, open).filter(|&i| buf.get(i) == Some(&b',')) else {
            continue;
        };
        let Some(close) = skip_ws_back(buf, comma).filter(|&i| buf.get(i) == Some(&b'}')) else {
            continue;
        };
        return Some((close + 1, open));
    }
    None
}

/// Inflates `bytes` (gzip) and sends the text in self-contained pieces. Sends `None` and stops
/// on a corrupt stream: the caller then takes the robust path, which reports the problem
/// precisely. Stops quietly when the receiver hangs up. UTF-8 is checked by the receiver, which
/// has time to spare, rather than here on the critical path.
pub(crate) fn gunzip_pieces(bytes: &[u8], piece: usize, tx: &SyncSender<Option<Vec<u8>>>) {
    // `&[u8]` is already buffered: the `bufread` decoder avoids a second copy of the input.
    let mut dec = flate2::bufread::MultiGzDecoder::new(bytes);
    let mut buf: Vec<u8> = Vec::with_capacity(piece + piece / 4);
    loop {
        let want = piece.saturating_sub(buf.len()).max(piece / 4).max(1);
        match (&mut dec).take(want as u64).read_to_end(&mut buf) {
            Ok(0) => {
                let _ = tx.send(Some(buf));
                return;
            }
            Ok(_) => {}
            Err(_) => {
                let _ = tx.send(None);
                return;
            }
        }
        if buf.len() < piece {
            continue;
        }
        let Some((end, next)) = find_boundary(&buf, buf.len() / 2) else {
            continue; // one huge object: read on until a boundary shows up
        };
        let mut rest = Vec::with_capacity(piece + piece / 4);
        rest.extend_from_slice(OPEN);
        rest.extend_from_slice(buf.get(next..).unwrap_or_default());
        buf.truncate(end);
        buf.extend_from_slice(CLOSE);
        let done = std::mem::replace(&mut buf, rest);
        if tx.send(Some(done)).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_only_between_top_level_looking_objects() {
        let s = br#"{"objects": [{"type": "a", "r": [{"x": 1}, {"y": 2}]}, {"type": "b", "d": "}, {\"type\": no"}]}"#;
        let (end, next) = find_boundary(s, 0).unwrap_or_else(|| panic!("no boundary"));
        assert_eq!(&s[end - 3..end], b"}]}".as_slice());
        assert!(s[next..].starts_with(br#"{"type": "b""#));
        assert_eq!(
            find_boundary(s, next + 2),
            None,
            "the escaped pattern in a string is no boundary"
        );
        let pretty = b"[\n  {\n    \"type\": \"a\"\n  },\n  {\n    \"type\": \"b\"\n  }\n]";
        let (end, next) = find_boundary(pretty, 0).unwrap_or_else(|| panic!("no boundary"));
        assert_eq!(pretty[end - 1], b'}');
        assert_eq!(pretty[next], b'{');
        assert_eq!(find_boundary(b"{\"type\": 1}", 0), None);
    }

    #[test]
    fn pieces_reassemble_to_valid_bundles() {
        use std::io::Write;
        let mut text = String::from(r#"{"type": "bundle", "objects": ["#);
        for i in 0..200 {
            if i > 0 {
                text.push_str(", ");
            }
            text.push_str(&format!(
                r#"{{"type": "attack-pattern", "id": "attack-pattern--{i}", "description": "{}"}}"#,
                "x".repeat(i * 7)
            ));
        }
        text.push_str("]}");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(text.as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        let gz = enc.finish().unwrap_or_else(|e| panic!("{e}"));
        let (tx, rx) = std::sync::mpsc::sync_channel(100);
        gunzip_pieces(&gz, 4096, &tx);
        drop(tx);
        let pieces: Vec<Option<Vec<u8>>> = rx.into_iter().collect();
        assert!(pieces.len() > 5, "{}", pieces.len());
        let mut ids = 0;
        for p in pieces {
            let p = p.and_then(|p| String::from_utf8(p).ok());
            let p = p.unwrap_or_else(|| panic!("piece failed"));
            let v: serde_json::Value =
                serde_json::from_str(&p).unwrap_or_else(|e| panic!("{e}: {p}"));
            ids += v["objects"].as_array().map_or(0, Vec::len);
        }
        assert_eq!(ids, 200);
        // A truncated stream ends with `None`.
        let (tx, rx) = std::sync::mpsc::sync_channel(100);
        gunzip_pieces(&gz[..gz.len() / 2], 4096, &tx);
        drop(tx);
        assert_eq!(rx.into_iter().last(), Some(None));
    }
}
