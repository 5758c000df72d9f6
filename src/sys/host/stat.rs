//! Reading a process's start time out of `/proc/<pid>/stat` (pure, tested on its own).

/// Field 22 (`starttime`) of a `/proc/<pid>/stat` line, or `None` if the line is malformed.
///
/// The command name (field 2) is in parentheses and may itself hold spaces and parentheses, so fields are
/// counted from the last `)`.
#[must_use]
pub fn starttime_from_stat(line: &[u8]) -> Option<u64> {
    let close = line.iter().rposition(|&b| b == b')')?;
    let rest = line.get(close + 1..)?;
    // Fields after the command: state is field 3, so starttime (22) is the 20th.
    let field = rest
        .split(|&b| b == b' ')
        .filter(|f| !f.is_empty())
        .nth(19)?;
    let mut v: u64 = 0;
    if field.is_empty() {
        return None;
    }
    for &b in field {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_field_22() {
        let line = b"1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 987654 12345678 300";
        assert_eq!(starttime_from_stat(line), Some(987_654));
    }

    #[test]
    fn refuses_malformed() {
        assert_eq!(starttime_from_stat(b""), None);
        assert_eq!(starttime_from_stat(b"1 (x) S 1 2"), None);
        assert_eq!(
            starttime_from_stat(b"1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12a"),
            None
        );
        assert_eq!(
            starttime_from_stat(
                b"1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99999999999999999999999"
            ),
            None
        );
    }
}
