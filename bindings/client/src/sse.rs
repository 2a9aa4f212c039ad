//! Server-Sent Events framing (the WHATWG `text/event-stream` format): `event:` and `data:` lines,
//! a blank line ends an event, `:` lines are comments.

/// Reads events out of a byte stream fed in arbitrary chunks.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    buffer: Vec<u8>,
    name: String,
    data: Vec<String>,
}

impl SseParser {
    /// Feeds bytes; returns the events completed by them, as `(name, data)`.
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Vec<(String, String)> {
        self.buffer.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.buffer.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if !self.data.is_empty() {
                    let name = std::mem::take(&mut self.name);
                    let name = if name.is_empty() {
                        "message".into()
                    } else {
                        name
                    };
                    events.push((name, std::mem::take(&mut self.data).join("\n")));
                }
                self.name.clear();
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => self.name = value.to_owned(),
                "data" => self.data.push(value.to_owned()),
                _ => {}
            }
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_come_out_whole() {
        let mut p = SseParser::default();
        assert!(p.feed(b"event: heart").is_empty());
        assert!(p.feed(b"beat\r\ndata: {\"a\":").is_empty());
        let events = p.feed(b"1}\n\n: comment\n\ndata: x\ndata: y\n\nevent: auth\ndata:{}\n\n");
        assert_eq!(
            events,
            [
                ("heartbeat".to_owned(), "{\"a\":1}".to_owned()),
                ("message".to_owned(), "x\ny".to_owned()),
                ("auth".to_owned(), "{}".to_owned()),
            ]
        );
    }
}
