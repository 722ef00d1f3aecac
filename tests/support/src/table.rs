//! Docker's tables (`ps`, `images`) with their relative times redacted, and laid out again.
//!
//! A table's columns are as wide as their widest cell, so a time such as
//! `Less than a second ago` widens its column, and pads the header, by ten
//! characters more than `1 second ago` does. Redacting the time alone would
//! leave that padding behind, and a snapshot that depends on the machine's
//! speed. So each table is cut into cells at its header's column starts,
//! each time in a cell becomes `[DURATION]`, and the table is laid out again
//! as the runtime lays it out (each column as wide as its widest cell, plus
//! three spaces): what it would print if every time read `[DURATION]`.
//! A row that does not line up with its header is not a row of the table:
//! it, and what follows, stay as they are, so a misaligned table still shows.

/// Units of Docker's human durations (go-units `HumanDuration`), singular.
const UNITS: [&str; 7] = ["second", "minute", "hour", "day", "week", "month", "year"];
/// Its durations that are not a number and a unit.
const PHRASES: [&[&str]; 3] = [&["Less", "than", "a", "second"], &["About", "a", "minute"], &["About", "an", "hour"]];

/// `text` with the relative times in its tables redacted as `[DURATION]`, columns aligned as before.
pub fn redact_table_times(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let starts = column_starts(lines[i]);
        let is_header = starts.len() > 1 && lines[i].chars().all(|c| c.is_ascii_uppercase() || c == ' ');
        if !is_header {
            out.push(lines[i].to_owned());
            i += 1;
            continue;
        }
        let rows = lines[i + 1..].iter().take_while(|row| lines_up(row, &starts)).count();
        let table: Vec<Vec<String>> = lines[i..=i + rows]
            .iter()
            .map(|line| cells(line, &starts).iter().map(|c| redact_times(c)).collect())
            .collect();
        out.extend(render(&table));
        i += rows + 1;
    }
    let end = if text.ends_with('\n') { "\n" } else { "" };
    out.join("\n") + end
}

/// Where each column of a header starts: at 0, and after each run of three spaces or more.
fn column_starts(header: &str) -> Vec<usize> {
    let chars: Vec<char> = header.chars().collect();
    let mut starts = vec![0];
    for at in 3..chars.len() {
        if chars[at] != ' ' && chars[at - 3..at].iter().all(|c| *c == ' ') {
            starts.push(at);
        }
    }
    starts
}

/// Whether `row` fits its header's columns: a cell at the first column start, padding up to the
/// last one at least, and no cell running into the next column (three spaces before each start).
/// A cell after the first may be empty, as `PORTS` is for a container without ports, or the last
/// column's `COMMENT` for a step of `history` without one.
fn lines_up(row: &str, starts: &[usize]) -> bool {
    let chars: Vec<char> = row.chars().collect();
    let begins = |at: usize| chars.get(at).is_some_and(|c| *c != ' ');
    let last = starts.last().copied().unwrap_or(0);
    begins(0) && chars.len() >= last && starts.iter().skip(1).all(|&at| chars[at - 3..at].iter().all(|c| *c == ' '))
}

/// The cells of `line`, cut at `starts`, without their padding.
fn cells(line: &str, starts: &[usize]) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    let ends = starts.iter().skip(1).copied().chain([chars.len()]);
    starts
        .iter()
        .zip(ends)
        .map(|(&from, to)| chars[from..to].iter().collect::<String>().trim_end().to_owned())
        .collect()
}

/// Each duration in `cell` (`Less than a second`, `About a minute`, `3 days`) as `[DURATION]`.
fn redact_times(cell: &str) -> String {
    let words: Vec<&str> = cell.split(' ').collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let phrase = PHRASES.iter().find(|phrase| words[i..].starts_with(phrase)).map(|phrase| phrase.len());
        let number_and_unit = match words[i..] {
            [number, unit, ..] if number.parse::<u64>().is_ok() && UNITS.contains(&unit.trim_end_matches('s')) => {
                Some(2)
            }
            _ => None,
        };
        match phrase.or(number_and_unit) {
            Some(length) => {
                out.push("[DURATION]");
                i += length;
            }
            None => {
                out.push(words[i]);
                i += 1;
            }
        }
    }
    out.join(" ")
}

/// The rows, each column as wide as its widest cell plus three spaces, the last unpadded.
fn render(table: &[Vec<String>]) -> Vec<String> {
    let columns = table.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|k| table.iter().filter_map(|row| row.get(k)).map(|c| c.chars().count()).max().unwrap_or(0))
        .collect();
    table
        .iter()
        .map(|row| {
            let mut line = String::new();
            for (k, cell) in row.iter().enumerate() {
                line.push_str(cell);
                if k + 1 < row.len() {
                    line.push_str(&" ".repeat(widths[k] - cell.chars().count() + 3));
                }
            }
            line
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_last_cell_still_lines_up() {
        let history = "IMAGE          CREATED       CREATED BY   SIZE   COMMENT\n\
                       0123456789ab   3 weeks ago   sh           0B     \n\
                       <missing>      8 years ago   /bin/sh      0B     made\n\
                       [exit status 0]\n";
        assert_eq!(
            redact_table_times(history),
            "IMAGE          CREATED          CREATED BY   SIZE   COMMENT\n\
             0123456789ab   [DURATION] ago   sh           0B     \n\
             <missing>      [DURATION] ago   /bin/sh      0B     made\n\
             [exit status 0]\n"
        );
    }

    const FAST: &str = "\
$ union-rootfs ps -a
CONTAINER ID   IMAGE     COMMAND          CREATED                  STATUS                              NAMES
0123456789ab   busybox   \"sh -c exit 3\"   Less than a second ago   Exited (3) Less than a second ago   job
[exit status 0]
";
    const SLOW: &str = "\
$ union-rootfs ps -a
CONTAINER ID   IMAGE     COMMAND          CREATED         STATUS                    NAMES
0123456789ab   busybox   \"sh -c exit 3\"   2 seconds ago   Exited (3) 1 second ago   job
[exit status 0]
";

    #[test]
    fn fast_and_slow_machines_give_the_same_aligned_table() {
        let expected = "\
$ union-rootfs ps -a
CONTAINER ID   IMAGE     COMMAND          CREATED          STATUS                      NAMES
0123456789ab   busybox   \"sh -c exit 3\"   [DURATION] ago   Exited (3) [DURATION] ago   job
[exit status 0]
";
        assert_eq!(redact_table_times(FAST), expected);
        assert_eq!(redact_table_times(SLOW), expected);
    }

    #[test]
    fn empty_cells_keep_their_column() {
        let text = "\
NAME   STATUS                     PORTS   ID
web    Up Less than a second              1
";
        let expected = "\
NAME   STATUS          PORTS   ID
web    Up [DURATION]           1
";
        assert_eq!(redact_table_times(text), expected);
    }

    #[test]
    fn a_misaligned_row_is_left_as_it_is() {
        let text = "REPOSITORY   TAG\nbusybox     latest\n";
        assert_eq!(redact_table_times(text), text);
    }

    #[test]
    fn durations_are_found_inside_cells() {
        assert_eq!(redact_times("Up About a minute"), "Up [DURATION]");
        assert_eq!(redact_times("Exited (137) 3 weeks ago"), "Exited (137) [DURATION] ago");
        assert_eq!(redact_times("\"sleep 5\""), "\"sleep 5\"");
    }
}
