//! Docker's table output (`docker ps`, `docker images`) and its sizes.
//!
//! Columns are left-aligned and separated by at least three spaces, as the
//! Docker CLI's tabwriter does; sizes are decimal with three significant
//! digits (`4.26MB`), like go-units' `HumanSizeWithPrecision`.

/// Lays out `rows` under `header`, each column as wide as its widest cell plus three spaces.
pub fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        let mut text = String::new();
        for (i, (cell, width)) in cells.iter().zip(&widths).enumerate() {
            text.push_str(cell);
            if i < last {
                text.push_str(&" ".repeat(width - cell.chars().count() + 3));
            }
        }
        text.push('\n');
        text
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// `1240000` → `1.24MB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    let decimals = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    let mut number = format!("{value:.decimals$}");
    if number.contains('.') {
        number = number.trim_end_matches('0').trim_end_matches('.').to_owned();
    }
    format!("{number}{}", UNITS[unit])
}

/// Docker's COMMAND column: the words joined (one holding a space in single quotes), cut to 20
/// characters with `…`, then quoted as Go's `strconv.Quote` does.
pub fn command_cell(argv: &[String]) -> String {
    let words: Vec<String> =
        argv.iter().map(|word| if word.contains(' ') { format!("'{word}'") } else { word.clone() }).collect();
    let command = words.join(" ");
    let cut: String = if command.chars().count() > 20 {
        command.chars().take(19).chain(std::iter::once('…')).collect()
    } else {
        command
    };
    format!("\"{}\"", cut.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_have_three_significant_digits() {
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(1_240_000), "1.24MB");
        assert_eq!(human_size(12_300_000), "12.3MB");
        assert_eq!(human_size(1_200_000), "1.2MB");
        assert_eq!(human_size(100_000_000), "100MB");
    }

    #[test]
    fn columns_are_padded_by_three_spaces() {
        let rows = vec![vec!["busybox".to_owned(), "latest".to_owned()]];
        assert_eq!(render(&["REPOSITORY", "TAG"], &rows), "REPOSITORY   TAG\nbusybox      latest\n");
    }

    #[test]
    fn words_with_spaces_are_quoted_as_dockers_daemon_does() {
        let argv = ["sh", "-c", "echo \"hi\""].map(String::from);
        assert_eq!(command_cell(&argv), r#""sh -c 'echo \"hi\"'""#);
    }

    #[test]
    fn long_commands_are_cut() {
        assert_eq!(command_cell(&["./hello".to_owned()]), "\"./hello\"");
        let long = ["/bin/sh", "-c", "while true; do sleep 1; done"].map(String::from);
        assert_eq!(command_cell(&long), "\"/bin/sh -c 'while t…\"");
    }
}
