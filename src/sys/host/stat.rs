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

    /// A stat line for a process named `name`, whose field `n` (from 3 on) holds `n`, except
    /// starttime (22), which holds `start`.
    fn line(name: &str, start: &str) -> std::string::String {
        let mut l = std::format!("4321 ({name}) S");
        for n in 4..=52 {
            if n == 22 {
                l += &std::format!(" {start}");
            } else {
                l += &std::format!(" {n}");
            }
        }
        l + "\n"
    }

    /// Names with spaces, parentheses and digits, which would shift the fields for a parser that
    /// counted them from the start or from the first `)`.
    #[test]
    fn field_22_past_any_name() {
        for name in [
            "x",
            "a b",
            "(",
            ")",
            "()",
            ") (",
            "a) S 1 2 3",
            ") 1 2 3 4 5 (",
            "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22)",
            "))))",
            "",
        ] {
            for start in ["0", "7", "123456789", "18446744073709551615"] {
                let l = line(name, start);
                assert_eq!(
                    starttime_from_stat(l.as_bytes()),
                    Some(start.parse().unwrap()),
                    "{l:?}"
                );
            }
            // One more than u64 holds, and a field that is not a number: refused.
            let l = line(name, "18446744073709551616");
            assert_eq!(starttime_from_stat(l.as_bytes()), None, "{l:?}");
            let l = line(name, "12x");
            assert_eq!(starttime_from_stat(l.as_bytes()), None, "{l:?}");
            let l = line(name, "-1");
            assert_eq!(starttime_from_stat(l.as_bytes()), None, "{l:?}");
        }
    }

    /// The line cut right after field 22, or right before it.
    #[test]
    fn field_22_is_the_20th_after_the_name() {
        let l = line("p", "99");
        let upto22 = &l[..l.find(" 99 ").unwrap() + 3];
        assert_eq!(starttime_from_stat(upto22.as_bytes()), Some(99));
        let upto21 = &l[..l.find(" 99 ").unwrap()];
        assert_eq!(starttime_from_stat(upto21.as_bytes()), None);
        // No closing parenthesis at all.
        assert_eq!(
            starttime_from_stat(b"4321 p S 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 99 23"),
            None
        );
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
