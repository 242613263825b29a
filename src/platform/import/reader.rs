//! Reading an import's input line by line in bounded memory: a line longer than the limit
//! is skipped to its end (and reported), never held whole; a line that is not UTF-8 is
//! reported; blank lines are passed over.

use std::io::{self, BufRead};

/// What one physical line was.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// Its text, without the line end (and without a UTF-8 byte order mark on line 1).
    Text(&'a str),
    /// Blank.
    Blank,
    /// Longer than the limit: skipped.
    TooLong,
    /// Not UTF-8.
    NotUtf8,
}

/// Reads lines of at most `max` bytes from `input`.
#[derive(Debug)]
pub struct LineReader<R> {
    input: R,
    max: usize,
    buf: Vec<u8>,
    number: u64,
    bytes: u64,
}

impl<R: BufRead> LineReader<R> {
    /// A reader of lines up to `max` bytes.
    pub fn new(input: R, max: usize) -> Self {
        Self { input, max, buf: Vec::new(), number: 0, bytes: 0 }
    }

    /// Bytes consumed so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The next line and its number (from 1), or `None` at the end.
    pub fn next_line(&mut self) -> io::Result<Option<(u64, Line<'_>)>> {
        self.buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let chunk = self.input.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            any = true;
            let (end, found) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            let content = &chunk[..if found { end - 1 } else { end }];
            if !too_long && self.buf.len() + content.len() <= self.max {
                self.buf.extend_from_slice(content);
            } else {
                too_long = true;
                self.buf.clear();
            }
            self.input.consume(end);
            self.bytes += end as u64;
            if found {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        self.number += 1;
        if too_long {
            return Ok(Some((self.number, Line::TooLong)));
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        let mut text: &[u8] = &self.buf;
        if self.number == 1 {
            text = text.strip_prefix("\u{feff}".as_bytes()).unwrap_or(text);
        }
        let line = match std::str::from_utf8(text) {
            Ok(t) if t.trim().is_empty() => Line::Blank,
            Ok(t) => Line::Text(t),
            Err(_) => Line::NotUtf8,
        };
        Ok(Some((self.number, line)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_bounded_numbered_and_checked() {
        let mut input = b"\xef\xbb\xbfone\r\n\n".to_vec();
        input.extend(vec![b'x'; 100]);
        input.extend(b"\n\xff\xfe\nlast");
        let mut r = LineReader::new(std::io::BufReader::with_capacity(8, &input[..]), 16);
        let mut seen = vec![];
        while let Some((n, line)) = r.next_line().unwrap() {
            seen.push(format!("{n}:{line:?}"));
        }
        assert_eq!(seen, ["1:Text(\"one\")", "2:Blank", "3:TooLong", "4:NotUtf8", "5:Text(\"last\")"]);
        assert_eq!(r.bytes(), input.len() as u64);
    }
}
