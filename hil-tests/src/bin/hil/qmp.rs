//! A QMP client just big enough to drive a guest that has no serial console of its own: keystrokes in,
//! the VGA text screen out, quit.
//!
//! QMP speaks one JSON object a line. Replies are told apart by their first key (`return`, `error`);
//! asynchronous `event` lines are skipped. Nothing here needs a JSON parser: the only reply read for its
//! content is an error, which is reported as QEMU wrote it.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Physical address of the VGA text buffer (colour text mode).
const VGA_TEXT: u32 = 0xB8000;
/// Text mode geometry: 80 columns by 25 rows of (character, attribute) cells.
pub const COLS: usize = 80;
/// Rows on the screen.
pub const ROWS: usize = 25;

/// A QMP connection to one QEMU.
pub struct Qmp {
    r: BufReader<UnixStream>,
    w: UnixStream,
    /// Where `pmemsave` writes the text buffer for [`Qmp::screen`].
    scratch: PathBuf,
}

/// JSON string literal for `s`.
fn json_str(s: &str) -> String {
    let mut o = String::from('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

impl Qmp {
    /// Connects to QEMU's QMP socket, retrying until `until` (QEMU creates the socket a moment after it
    /// starts), and leaves capability negotiation mode.
    pub fn connect(sock: &Path, scratch: PathBuf, until: Instant) -> Result<Qmp, String> {
        let s = loop {
            match UnixStream::connect(sock) {
                Ok(s) => break s,
                Err(e) if Instant::now() >= until => {
                    return Err(format!("QMP socket {}: {e}", sock.display()))
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        };
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| format!("QMP: {e}"))?;
        let w = s.try_clone().map_err(|e| format!("QMP: {e}"))?;
        let mut q = Qmp {
            r: BufReader::new(s),
            w,
            scratch,
        };
        let greeting = q.line()?;
        if !greeting.contains("\"QMP\"") {
            return Err(format!("QMP: unexpected greeting {}", greeting.trim()));
        }
        q.execute("qmp_capabilities", "{}")?;
        Ok(q)
    }

    fn line(&mut self) -> Result<String, String> {
        let mut l = String::new();
        match self.r.read_line(&mut l) {
            Ok(0) => Err("QMP: QEMU closed the connection".into()),
            Ok(_) => Ok(l),
            Err(e) => Err(format!("QMP: {e}")),
        }
    }

    /// Runs one command; `args` is a JSON object. Returns the reply line.
    pub fn execute(&mut self, cmd: &str, args: &str) -> Result<String, String> {
        writeln!(
            self.w,
            "{{\"execute\":{},\"arguments\":{args}}}",
            json_str(cmd)
        )
        .map_err(|e| format!("QMP {cmd}: {e}"))?;
        loop {
            let l = self.line()?;
            let t = l.trim_start();
            if t.starts_with("{\"return\"") {
                return Ok(l);
            }
            if t.starts_with("{\"error\"") {
                return Err(format!("QMP {cmd}: {}", l.trim()));
            }
            // `{"timestamp": ..., "event": ...}` and anything else asynchronous: not our reply.
        }
    }

    /// Presses and releases one key, by QEMU's key name (`a`, `slash`, `shift-7`, `ret`).
    pub fn key(&mut self, name: &str) -> Result<(), String> {
        let hmp = format!("sendkey {name}");
        let r = self.execute(
            "human-monitor-command",
            &format!("{{\"command-line\":{}}}", json_str(&hmp)),
        )?;
        // HMP reports its own errors as text in an otherwise successful reply.
        if r.contains("\"return\": \"\"") || r.contains("\"return\":\"\"") {
            Ok(())
        } else {
            Err(format!("sendkey {name}: {}", r.trim()))
        }
    }

    /// Types `text`, one key per character, `gap` apart.
    pub fn type_text(&mut self, text: &str, gap: Duration) -> Result<(), String> {
        for c in text.chars() {
            let k = key_name(c).ok_or_else(|| format!("no key for {c:?} in {text:?}"))?;
            self.key(&k)?;
            if !gap.is_zero() {
                std::thread::sleep(gap);
            }
        }
        Ok(())
    }

    /// The VGA text screen, one string per row, trailing blanks removed.
    pub fn screen(&mut self) -> Result<Vec<String>, String> {
        let size = COLS * ROWS * 2;
        self.execute(
            "pmemsave",
            &format!(
                "{{\"val\":{VGA_TEXT},\"size\":{size},\"filename\":{}}}",
                json_str(&self.scratch.display().to_string())
            ),
        )?;
        let b =
            std::fs::read(&self.scratch).map_err(|e| format!("{}: {e}", self.scratch.display()))?;
        if b.len() < size {
            return Err(format!("pmemsave wrote {} of {size} bytes", b.len()));
        }
        Ok(screen_text(&b))
    }

    /// Asks QEMU to quit (the caller still reaps it).
    pub fn quit(&mut self) {
        let _ = self.execute("quit", "{}");
    }
}

/// The rows of a text-mode buffer (character bytes at even offsets); code page 437's line-drawing and
/// accented characters become `?`.
pub fn screen_text(b: &[u8]) -> Vec<String> {
    b.chunks(COLS * 2)
        .take(ROWS)
        .map(|row| {
            let s: String = row
                .iter()
                .step_by(2)
                .map(|&c| match c {
                    0 => ' ',
                    0x20..=0x7e => c as char,
                    _ => '?',
                })
                .collect();
            s.trim_end().to_string()
        })
        .collect()
}

/// The last row with anything on it: where the shell's prompt and the line being typed are.
pub fn last_line(screen: &[String]) -> &str {
    screen
        .iter()
        .rev()
        .find(|l| !l.is_empty())
        .map(String::as_str)
        .unwrap_or("")
}

/// QEMU's key name for a character on a US keyboard, or `None` for one the runner does not type.
pub fn key_name(c: char) -> Option<String> {
    let k = match c {
        'a'..='z' | '0'..='9' => c.to_string(),
        'A'..='Z' => format!("shift-{}", c.to_ascii_lowercase()),
        ' ' => "spc".into(),
        '/' => "slash".into(),
        '.' => "dot".into(),
        '-' => "minus".into(),
        '_' => "shift-minus".into(),
        '=' => "equal".into(),
        ',' => "comma".into(),
        ';' => "semicolon".into(),
        ':' => "shift-semicolon".into(),
        '&' => "shift-7".into(),
        '>' => "shift-dot".into(),
        '<' => "shift-comma".into(),
        '|' => "shift-backslash".into(),
        '\n' => "ret".into(),
        _ => return None,
    };
    Some(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_buffer_rows_and_last_line() {
        let mut b = vec![0u8; COLS * ROWS * 2];
        for (i, c) in b"# /fs/cd0/hil-raw".iter().enumerate() {
            b[(3 * COLS + i) * 2] = *c;
            b[(3 * COLS + i) * 2 + 1] = 0x07; // attribute bytes must not leak into the text
        }
        b[COLS * 2] = 0xc4; // a box-drawing character
        let s = screen_text(&b);
        assert_eq!(s.len(), ROWS);
        assert_eq!(s[1], "?");
        assert_eq!(s[3], "# /fs/cd0/hil-raw");
        assert_eq!(last_line(&s), "# /fs/cd0/hil-raw");
        assert_eq!(last_line(&[String::new()]), "");
    }

    #[test]
    fn keys_for_the_typed_commands() {
        let typed: Vec<String> = "/proc/boot/devc-ser8250 -e -b115200 &"
            .chars()
            .map(|c| key_name(c).unwrap())
            .collect();
        assert_eq!(typed[0], "slash");
        assert!(typed.contains(&"spc".to_string()));
        assert_eq!(typed.last().unwrap(), "shift-7");
        assert_eq!(key_name('R').unwrap(), "shift-r");
        assert_eq!(key_name('"'), None);
        assert_eq!(json_str("a\"b\\c"), r#""a\"b\\c""#);
    }
}
