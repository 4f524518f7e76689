//! Server-sent events, both ways: reading an upstream's `text/event-stream` answer one event at a
//! time (never buffering it to the end), and writing events to the caller.

use bytes::{Bytes, BytesMut};

/// Reads events out of the bytes as they arrive; `push` returns the `data` of each event that
/// completed (lines joined with `\n`; comments and other fields ignored).
#[derive(Debug, Default)]
pub struct SseReader {
    buffer: BytesMut,
    data: Vec<String>,
}

impl SseReader {
    pub fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        self.buffer.extend_from_slice(chunk);
        let mut events = Vec::new();
        while let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
            let line = self.buffer.split_to(end + 1);
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if !self.data.is_empty() {
                    events.push(std::mem::take(&mut self.data).join("\n"));
                }
            } else if let Some(value) = line.strip_prefix("data:") {
                self.data.push(value.strip_prefix(' ').unwrap_or(value).to_owned());
            }
        }
        events
    }
}

/// One event for the caller.
pub fn event(data: &str) -> Bytes {
    Bytes::from(format!("event: message\ndata: {data}\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks() {
        let mut r = SseReader::default();
        assert!(r.push(b"event: message\ndata: {\"a\"").is_empty());
        assert_eq!(r.push(b":1}\n\n: comment\n\ndata: x\r\ndata: y\r\n\r\nid: 3\n"), vec!["{\"a\":1}", "x\ny"]);
        assert_eq!(&event("{}")[..], b"event: message\ndata: {}\n\n");
    }
}
