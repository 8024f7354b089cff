"""Writes the national-holiday table of calendar.rs between its @generated markers.

Usage: generate.py FIRST_YEAR LAST_YEAR PATH/TO/calendar.rs
The table comes from the `holidays` package (country JP, Japanese names); the years and the
package version are written into the file so the coverage is stated where the data is.
"""

import re
import sys

import holidays


def main() -> None:
    first, last, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rows = []
    for year in range(first, last + 1):
        for day, name in sorted(holidays.country_holidays("JP", years=year, language="ja").items()):
            # Two names on one day never happen in Japan, but keep the output deterministic.
            name = name.split("; ")[0]
            rows.append(f'    ({day.year:04d}{day.month:02d}{day.day:02d}, "{name}"),')
    block = "\n".join(
        [
            "// @generated-begin by scripts/calendar/generate.sh; do not edit by hand.",
            f"// Source: PyPI `holidays` {holidays.__version__}, country JP, language ja.",
            "/// The first year the table covers.",
            f"pub const FIRST_YEAR: i32 = {first};",
            "/// The last year the table covers.",
            f"pub const LAST_YEAR: i32 = {last};",
            "",
            "/// National holidays (国民の祝日 and 休日) as `(yyyymmdd, name)`, sorted by date.",
            "#[rustfmt::skip]",
            '#[expect(clippy::unreadable_literal, reason = "yyyymmdd keys read best unseparated")]',
            "static NATIONAL_HOLIDAYS: &[(u32, &str)] = &[",
            *rows,
            "];",
            "// @generated-end",
        ]
    )
    with open(path, encoding="utf-8") as f:
        text = f.read()
    pattern = re.compile(r"// @generated-begin.*?// @generated-end", re.S)
    if not pattern.search(text):
        sys.exit(f"{path}: no @generated-begin/@generated-end markers")
    text = pattern.sub(lambda _: block, text)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"{len(rows)} holidays written to {path}")


if __name__ == "__main__":
    main()
