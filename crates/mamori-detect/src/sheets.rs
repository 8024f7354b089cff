//! Spreadsheets (xlsx, xlsm, xlsb, xls, ods) read within limits.
//!
//! A spreadsheet is small on disk and large in memory: calamine's `worksheet_range` allocates the
//! rectangle from the first to the last used cell, so a 1.5 KB xlsx with cells A1 and
//! XFD1048576 asks for 17 billion cells (549 GB) and the process aborts. Here xlsx and xlsb
//! sheets are read as a stream of cells (`worksheet_cells_reader`); only cells with a value are
//! kept, and a sheet is refused when it holds more than `max_cells` of them, or when its rows,
//! filled out from column A to their last value (the form the scanner and the vault import
//! read), would. Before anything is parsed, the expanded size of every part is taken from the
//! zip central directory (which the zip reader enforces while decompressing) and checked per part
//! and per workbook.
//!
//! calamine has no streaming reader for ods and xls and builds every sheet when the file is
//! opened, so those are measured first: ods by a pass over `content.xml` that counts cells the
//! way calamine expands repeated rows and columns, xls by a walk over the BIFF records of the
//! Workbook stream that finds each sheet's declared dimensions and the rectangle its cells span.
//! A file over a limit is refused with `SheetError::TooLarge`, which the scanner reports as
//! skipped and the vault import as an error naming the file.

use calamine::{Data, DataRef, Reader};
use std::fmt;
use std::io::{BufReader, Cursor};

/// Cells with a value per sheet, and cells of the rows filled out from column A.
pub const MAX_SHEET_CELLS: u64 = 5_000_000;
/// Expanded size of one part of a workbook (a sheet's XML, the shared strings).
pub const MAX_SHEET_XML: u64 = 256 << 20;
/// Expanded size of all parts of a workbook together.
pub const MAX_WORKBOOK_XML: u64 = 512 << 20;

/// Excel's own sheet size, which calamine also applies to ods.
const MAX_ROWS: u64 = 1_048_576;
const MAX_COLUMNS: u64 = 16_384;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SheetLimits {
    pub max_cells: u64,
    pub max_part: u64,
    pub max_workbook: u64,
}

impl Default for SheetLimits {
    fn default() -> Self {
        SheetLimits {
            max_cells: MAX_SHEET_CELLS,
            max_part: MAX_SHEET_XML,
            max_workbook: MAX_WORKBOOK_XML,
        }
    }
}

/// Why a workbook was not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SheetError {
    /// Over a limit; nothing of the sheet named was read.
    TooLarge(TooLarge),
    /// Not a readable spreadsheet (damaged, encrypted, another format).
    Unreadable(String),
}

/// The limit a workbook is over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TooLarge {
    /// A sheet holds (or its rows filled out from column A span) more cells than the limit.
    Cells { sheet: String, limit: u64 },
    /// A part of the workbook expands to more than the limit.
    Part {
        part: String,
        bytes: u64,
        limit: u64,
    },
    /// The parts together expand to more than the limit.
    Workbook { bytes: u64, limit: u64 },
}

impl SheetError {
    /// The reason in Japanese, for messages shown to a user.
    pub fn ja(&self) -> String {
        match self {
            SheetError::Unreadable(e) => format!("表計算ファイルとして読めません（{e}）"),
            SheetError::TooLarge(TooLarge::Cells { sheet, limit }) => format!(
                "シート「{sheet}」のセルが上限（{}）を超えるため読み込みません",
                group(*limit)
            ),
            SheetError::TooLarge(TooLarge::Part { part, bytes, limit }) => format!(
                "{part} が展開後 {} MiB になり、上限（{} MiB）を超えるため読み込みません",
                bytes >> 20,
                limit >> 20
            ),
            SheetError::TooLarge(TooLarge::Workbook { bytes, limit }) => format!(
                "ブック全体が展開後 {} MiB になり、上限（{} MiB）を超えるため読み込みません",
                bytes >> 20,
                limit >> 20
            ),
        }
    }
}

impl fmt::Display for SheetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SheetError::Unreadable(e) => write!(f, "not a readable spreadsheet: {e}"),
            SheetError::TooLarge(TooLarge::Cells { sheet, limit }) => write!(
                f,
                "sheet «{sheet}» has more than {} cells (the limit); not read",
                group(*limit)
            ),
            SheetError::TooLarge(TooLarge::Part { part, bytes, limit }) => write!(
                f,
                "{part} expands to {} MiB, over the limit of {} MiB; not read",
                bytes >> 20,
                limit >> 20
            ),
            SheetError::TooLarge(TooLarge::Workbook { bytes, limit }) => write!(
                f,
                "the workbook expands to {} MiB, over the limit of {} MiB; not read",
                bytes >> 20,
                limit >> 20
            ),
        }
    }
}

impl std::error::Error for SheetError {}

/// 5000000 as 5,000,000.
fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn too_many_cells(sheet: &str, limits: &SheetLimits) -> SheetError {
    SheetError::TooLarge(TooLarge::Cells {
        sheet: sheet.to_owned(),
        limit: limits.max_cells,
    })
}

/// A row: its 1-based number and its cells as text from column A.
pub type Row = (u64, Vec<String>);

/// Every sheet of an xlsx or xlsb workbook read as a stream of cells (the two readers are
/// different types with the same calls), each handed to `each` as rows within the limits.
macro_rules! stream_sheets {
    ($wb:ident, $limits:ident, $each:ident) => {
        for name in $wb.sheet_names() {
            let mut cells = $wb
                .worksheet_cells_reader(&name)
                .map_err(|e| SheetError::Unreadable(format!("sheet {name}: {e}")))?;
            let rows = stream_rows(&name, $limits, || {
                guard(|| {
                    cells
                        .next_cell()
                        .map_err(|e| SheetError::Unreadable(format!("sheet {name}: {e}")))
                })
            })?;
            $each(&name, rows);
        }
    };
}

/// Reads every sheet of an xlsx/xlsm/xlsb/xls/ods within `limits`; `each` gets the sheet name
/// and its rows (1-based row number, cells as text from column A; rows with no value left out).
/// Sheets are handed over one by one: when a later sheet is over a limit, the earlier ones have
/// been seen.
pub fn read_sheets(
    bytes: &[u8],
    limits: &SheetLimits,
    mut each: impl FnMut(&str, Vec<Row>),
) -> Result<(), SheetError> {
    if bytes.starts_with(b"PK") {
        let parts = measure_zip(bytes, limits)?;
        let has = |n: &str| parts.iter().any(|p| p == n);
        if has("xl/workbook.bin") {
            let mut wb = guard(|| {
                calamine::open_workbook_from_rs::<calamine::Xlsb<_>, _>(Cursor::new(bytes))
                    .map_err(|e| SheetError::Unreadable(e.to_string()))
            })?;
            stream_sheets!(wb, limits, each);
            return Ok(());
        }
        if has("content.xml") && !has("xl/workbook.xml") {
            check_ods(bytes, limits)?;
            let wb = guard(|| {
                calamine::open_workbook_from_rs::<calamine::Ods<_>, _>(Cursor::new(bytes))
                    .map_err(|e| SheetError::Unreadable(e.to_string()))
            })?;
            return dense_sheets(wb, limits, each);
        }
        let mut wb = guard(|| {
            calamine::open_workbook_from_rs::<calamine::Xlsx<_>, _>(Cursor::new(bytes))
                .map_err(|e| SheetError::Unreadable(e.to_string()))
        })?;
        stream_sheets!(wb, limits, each);
        return Ok(());
    }
    if bytes.starts_with(&CFB_MAGIC) {
        check_xls(bytes, limits)?;
        let wb = guard(|| {
            calamine::open_workbook_from_rs::<calamine::Xls<_>, _>(Cursor::new(bytes))
                .map_err(|e| SheetError::Unreadable(e.to_string()))
        })?;
        return dense_sheets(wb, limits, each);
    }
    Err(SheetError::Unreadable(
        "not an xlsx, xlsb, xls or ods file".to_owned(),
    ))
}

/// Runs a call into calamine, turning a panic in it (a damaged file it does not expect) into
/// an unreadable file, so that the vault import answers with an error and the scanner goes on.
fn guard<T>(f: impl FnOnce() -> Result<T, SheetError>) -> Result<T, SheetError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(SheetError::Unreadable(
            "the spreadsheet reader stopped on a damaged part of the file".to_owned(),
        ))
    })
}

/// Collects a sheet's cells from a stream, refusing it past the limits, and makes rows.
fn stream_rows<'a>(
    sheet: &str,
    limits: &SheetLimits,
    mut next: impl FnMut() -> Result<Option<calamine::Cell<DataRef<'a>>>, SheetError>,
) -> Result<Vec<Row>, SheetError> {
    let mut cells: Vec<(u32, u32, String)> = Vec::new();
    while let Some(cell) = next()? {
        let (row, col) = cell.get_position();
        let text = cell_text(&Data::from(cell.get_value().clone()));
        if text.is_empty() {
            continue;
        }
        if cells.len() as u64 >= limits.max_cells {
            return Err(too_many_cells(sheet, limits));
        }
        cells.push((row, col, text));
    }
    // Cells come in the sheet's order, which writers keep sorted; sort anyway, and let a
    // repeated position keep its last value as calamine does.
    cells.sort_by_key(|c| (c.0, c.1));
    cells.dedup_by(|later, earlier| {
        if (later.0, later.1) == (earlier.0, earlier.1) {
            std::mem::swap(&mut earlier.2, &mut later.2);
            true
        } else {
            false
        }
    });
    // Rows are filled out from column A: count those cells before making any.
    let mut spanned = 0u64;
    let mut i = 0;
    while i < cells.len() {
        let row = cells[i].0;
        let mut last = cells[i].1;
        while i < cells.len() && cells[i].0 == row {
            last = cells[i].1;
            i += 1;
        }
        spanned = spanned.saturating_add(u64::from(last) + 1);
        if spanned > limits.max_cells {
            return Err(too_many_cells(sheet, limits));
        }
    }
    let mut rows: Vec<Row> = Vec::new();
    for (row, col, text) in cells {
        let number = u64::from(row) + 1;
        if rows.last().is_none_or(|(n, _)| *n != number) {
            rows.push((number, Vec::new()));
        }
        let cur = &mut rows.last_mut().expect("pushed above").1;
        cur.resize(col as usize, String::new());
        cur.push(text);
    }
    Ok(rows)
}

/// Sheets of a workbook calamine has already built (ods, xls), measured before it was opened.
fn dense_sheets<'a, W>(
    mut wb: W,
    limits: &SheetLimits,
    mut each: impl FnMut(&str, Vec<Row>),
) -> Result<(), SheetError>
where
    W: Reader<Cursor<&'a [u8]>>,
    W::Error: fmt::Display,
{
    for name in wb.sheet_names() {
        let range = guard(|| {
            wb.worksheet_range(&name)
                .map_err(|e| SheetError::Unreadable(format!("sheet {name}: {e}")))
        })?;
        let (row0, col0) = range.start().unwrap_or((0, 0));
        let mut rows = Vec::new();
        let mut spanned = 0u64;
        for (i, row) in range.rows().enumerate() {
            let Some(last) = row.iter().rposition(|d| !cell_text(d).is_empty()) else {
                continue;
            };
            spanned = spanned.saturating_add(u64::from(col0) + last as u64 + 1);
            if spanned > limits.max_cells {
                return Err(too_many_cells(&name, limits));
            }
            let mut cells: Vec<String> = vec![String::new(); col0 as usize];
            cells.extend(row[..=last].iter().map(cell_text));
            rows.push((u64::from(row0) + i as u64 + 1, cells));
        }
        each(&name, rows);
    }
    Ok(())
}

/// Expanded sizes from the zip central directory, per part and together; the names of the parts.
fn measure_zip(bytes: &[u8], limits: &SheetLimits) -> Result<Vec<String>, SheetError> {
    let zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| SheetError::Unreadable(format!("zip: {e}")))?;
    let mut names = Vec::with_capacity(zip.len());
    let mut total = 0u64;
    for i in 0..zip.len() {
        let entry = zip
            .by_index_data(i)
            .map_err(|e| SheetError::Unreadable(format!("zip: {e}")))?;
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        let bytes = entry.size();
        if bytes > limits.max_part {
            return Err(SheetError::TooLarge(TooLarge::Part {
                part: name,
                bytes,
                limit: limits.max_part,
            }));
        }
        total = total.saturating_add(bytes);
        names.push(name);
    }
    if total > limits.max_workbook {
        return Err(SheetError::TooLarge(TooLarge::Workbook {
            bytes: total,
            limit: limits.max_workbook,
        }));
    }
    Ok(names)
}

/// Cells calamine will make of one ods table, counted as it expands repeats: trailing empty
/// cells of a row and trailing empty rows of a table are dropped, everything between kept.
#[derive(Default)]
struct OdsTable {
    name: String,
    /// Rows read so far, repeats included (calamine stops at Excel's 1,048,576).
    rows: u64,
    /// Cells of the rows as read, before rows are repeated.
    raw: u64,
    /// Rows from the first with a value to the last, repeats included.
    spanned: u64,
    /// Empty rows since the last row with a value.
    gap: u64,
    col_min: u64,
    col_end: u64,
    seen: bool,
}

#[derive(Default)]
struct OdsRow {
    repeats: u64,
    len: u64,
    pending: u64,
    first: Option<u64>,
    end: u64,
}

fn attr_value(e: &quick_xml::events::BytesStart<'_>, key: &str) -> Option<String> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.as_ref() == key)
        .map(|a| a.value.into_owned())
}

fn repeats(e: &quick_xml::events::BytesStart<'_>, key: &str) -> u64 {
    attr_value(e, key)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(1)
}

/// Measures `content.xml` of an ods before calamine expands it.
fn check_ods(bytes: &[u8], limits: &SheetLimits) -> Result<(), SheetError> {
    use quick_xml::events::Event;
    let unreadable = |e: &dyn fmt::Display| SheetError::Unreadable(format!("content.xml: {e}"));
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    let entry = zip.by_name("content.xml").map_err(|e| unreadable(&e))?;
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(entry));
    let mut buf = Vec::new();
    let mut skip = Vec::new();
    let mut table: Option<OdsTable> = None;
    let mut row: Option<OdsRow> = None;
    let mut workbook = 0u64;
    loop {
        buf.clear();
        let event = xml.read_event_into(&mut buf).map_err(|e| unreadable(&e))?;
        let (e, empty) = match event {
            Event::Eof => return Ok(()),
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(e) => {
                match e.name().as_ref() {
                    "table:table-row" => {
                        if let (Some(t), Some(r)) = (table.as_mut(), row.take()) {
                            ods_row_done(t, &r, limits)?;
                        }
                    }
                    "table:table" => {
                        if let Some(t) = table.take() {
                            workbook = workbook.saturating_add(
                                t.spanned
                                    .saturating_mul(t.col_end.saturating_sub(t.col_min)),
                            );
                            if workbook > limits.max_cells {
                                return Err(SheetError::TooLarge(TooLarge::Cells {
                                    sheet: t.name,
                                    limit: limits.max_cells,
                                }));
                            }
                        }
                    }
                    _ => {}
                }
                continue;
            }
            _ => continue,
        };
        match e.name().as_ref() {
            "table:table" if !empty => {
                table = Some(OdsTable {
                    name: attr_value(&e, "table:name").unwrap_or_default(),
                    col_min: u64::MAX,
                    ..OdsTable::default()
                });
            }
            "table:table-row" => {
                let Some(t) = table.as_mut() else { continue };
                let want = repeats(&e, "table:number-rows-repeated");
                let n = want.min(MAX_ROWS.saturating_sub(t.rows));
                t.rows += n;
                let r = OdsRow {
                    repeats: n,
                    ..OdsRow::default()
                };
                if empty {
                    ods_row_done(t, &r, limits)?;
                } else {
                    row = Some(r);
                }
            }
            "table:table-cell" | "table:covered-table-cell" => {
                let Some(r) = row.as_mut() else { continue };
                let want = repeats(&e, "table:number-columns-repeated");
                // A value is an office:* attribute or content; an element with content counts
                // as a value even when calamine would find it empty (a safe overestimate).
                let valued = !empty
                    || e.attributes().with_checks(false).flatten().any(|a| {
                        a.key.as_ref().starts_with("office:") || a.key.as_ref() == "table:formula"
                    });
                if !empty {
                    let end = e.to_end().into_owned();
                    xml.read_to_end_into(end.name(), &mut skip)
                        .map_err(|e| unreadable(&e))?;
                    skip.clear();
                }
                r.len += r.pending.min(MAX_COLUMNS.saturating_sub(r.len));
                r.pending = 0;
                let n = want.min(MAX_COLUMNS.saturating_sub(r.len));
                if valued {
                    r.first.get_or_insert(r.len);
                    r.len += n;
                    r.end = r.len;
                } else {
                    r.pending = n;
                }
            }
            _ => {}
        }
    }
}

fn ods_row_done(t: &mut OdsTable, r: &OdsRow, limits: &SheetLimits) -> Result<(), SheetError> {
    t.raw = t.raw.saturating_add(r.len);
    if t.raw > limits.max_cells {
        return Err(too_many_cells(&t.name, limits));
    }
    let Some(first) = r.first else {
        if t.seen {
            t.gap = t.gap.saturating_add(r.repeats);
        }
        return Ok(());
    };
    t.spanned = if t.seen {
        t.spanned.saturating_add(t.gap).saturating_add(r.repeats)
    } else {
        r.repeats
    };
    t.gap = 0;
    t.seen = true;
    t.col_min = t.col_min.min(first);
    t.col_end = t.col_end.max(r.end);
    if t.spanned.saturating_mul(t.col_end - t.col_min) > limits.max_cells {
        return Err(too_many_cells(&t.name, limits));
    }
    Ok(())
}

const CFB_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const RESERVED_SECTORS: u32 = 0xFFFF_FFFA;
const DIFSECT: u32 = 0xFFFF_FFFC;
const ENDOFCHAIN: u32 = 0xFFFF_FFFE;

fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn damaged() -> SheetError {
    SheetError::Unreadable("damaged xls (compound file structure)".to_owned())
}

/// The sectors of a compound file as calamine's reader sees them: sector `id` starts one
/// sector size after the header, the last one may be short.
struct Sectors<'a> {
    data: &'a [u8],
    size: usize,
    maxid: u64,
    /// Mini sectors: calamine fills a short one from wherever its file reader stands, so a
    /// chain that reaches past the mini stream is refused.
    whole: bool,
}

impl<'a> Sectors<'a> {
    fn get(&self, id: u32) -> Result<&'a [u8], SheetError> {
        if u64::from(id) > self.maxid {
            return Err(damaged());
        }
        let start = id as usize * self.size;
        if start >= self.data.len() || (self.whole && start + self.size > self.data.len()) {
            return Err(damaged());
        }
        Ok(&self.data[start..(start + self.size).min(self.data.len())])
    }

    /// A chain of sectors up to `len` bytes; a chain that points outside its table or loops
    /// without end is refused (calamine would panic or grow without bound).
    fn chain(&self, mut id: u32, table: &[u32], len: usize) -> Result<Vec<u8>, SheetError> {
        let mut out = Vec::new();
        let mut steps = 0u64;
        while id != ENDOFCHAIN {
            steps += 1;
            if steps > self.maxid + 2 && len == usize::MAX {
                return Err(damaged());
            }
            let s = self.get(id)?;
            let take = s.len().min(len - out.len());
            out.extend_from_slice(&s[..take]);
            if out.len() >= len {
                break;
            }
            id = *table.get(id as usize).ok_or_else(damaged)?;
        }
        Ok(out)
    }
}

/// A sector of the DIFAT or the FAT: calamine asserts that it holds whole u32s, so a file cut
/// inside one is refused here rather than making it panic (found by fuzzing).
fn table_sector<'a>(sectors: &Sectors<'a>, id: u32) -> Result<&'a [u8], SheetError> {
    let s = sectors.get(id)?;
    if !s.len().is_multiple_of(4) {
        return Err(damaged());
    }
    Ok(s)
}

/// The Workbook stream of an xls, read the way calamine's compound-file reader reads it, or
/// refused where calamine would panic or allocate without bound.
fn xls_workbook_stream(b: &[u8]) -> Result<Vec<u8>, SheetError> {
    if b.len() < 512 || !b.starts_with(&CFB_MAGIC) {
        return Err(damaged());
    }
    let version = le16(b, 26).ok_or_else(damaged)?;
    let (size, small) = match le16(b, 30) {
        Some(9) => (512usize, true),
        Some(12) if b.len() >= 4096 => (4096, false),
        _ => return Err(damaged()),
    };
    if le16(b, 32) != Some(6) {
        return Err(damaged());
    }
    let sectors = Sectors {
        data: &b[size..],
        size,
        maxid: (b.len() / size) as u64,
        whole: false,
    };
    let too_long = |len: usize| len > b.len();
    let mini_fat_len = le32(b, 64).ok_or_else(damaged)? as usize;
    let dir_start = le32(b, 48).ok_or_else(damaged)?;
    let mini_fat_start = le32(b, 60).ok_or_else(damaged)?;
    let mut difat: Vec<u32> = (0..109).filter_map(|k| le32(b, 76 + 4 * k)).collect();
    let mut id = le32(b, 68).ok_or_else(damaged)?;
    let mut steps = 0u64;
    while id < RESERVED_SECTORS {
        steps += 1;
        if steps > sectors.maxid + 1 {
            return Err(damaged());
        }
        let s = table_sector(&sectors, id)?;
        difat.extend(
            s.chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        );
        id = difat.pop().ok_or_else(damaged)?;
    }
    let fat_ids: Vec<u32> = difat.into_iter().filter(|id| *id < DIFSECT).collect();
    // A compound file has fewer FAT sectors than sectors; more means a list that repeats
    // sectors to make calamine build a huge table.
    if fat_ids.len() as u64 > sectors.maxid + 1 {
        return Err(damaged());
    }
    let mut fats = Vec::new();
    for id in fat_ids {
        let s = table_sector(&sectors, id)?;
        fats.extend(
            s.chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        );
    }
    let dir = sectors.chain(dir_start, &fats, usize::MAX)?;
    let dirs: Vec<(String, u32, usize)> = dir
        .chunks_exact(128)
        .map(|c| {
            let units: Vec<u16> = c[..64]
                .chunks_exact(2)
                .map(|u| u16::from_le_bytes([u[0], u[1]]))
                .collect();
            let mut name: String = char::decode_utf16(units)
                .map(|r| r.unwrap_or('\u{FFFD}'))
                .collect();
            if let Some(l) = name.find('\0') {
                name.truncate(l);
            }
            let start = le32(c, 116).unwrap_or(0);
            let len = if small {
                le32(c, 120).unwrap_or(0) as usize
            } else {
                usize::try_from(le64(c, 120).unwrap_or(0)).unwrap_or(usize::MAX)
            };
            (name, start, len)
        })
        .collect();
    if dirs.is_empty() || (version != 3 && dirs[0].1 == ENDOFCHAIN) {
        return Err(damaged());
    }
    let (ministream, minifat) = if mini_fat_len > 0 {
        let minifat_bytes = mini_fat_len.saturating_mul(size);
        if too_long(dirs[0].2) || too_long(minifat_bytes) {
            return Err(damaged());
        }
        let ministream = sectors.chain(dirs[0].1, &fats, dirs[0].2)?;
        let minifat = sectors.chain(mini_fat_start, &fats, minifat_bytes)?;
        if !minifat.len().is_multiple_of(4) {
            return Err(damaged());
        }
        let minifat: Vec<u32> = minifat
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        (ministream, minifat)
    } else {
        (Vec::new(), Vec::new())
    };
    let find = |n: &str| {
        dirs.iter()
            .find(|d| d.0.as_bytes().eq_ignore_ascii_case(n.as_bytes()))
    };
    let Some(&(_, start, len)) = find("Workbook").or_else(|| find("Book")) else {
        return Err(SheetError::Unreadable(
            "not a workbook (no Workbook stream)".to_owned(),
        ));
    };
    if too_long(len) {
        return Err(damaged());
    }
    if len < 4096 {
        let mini = Sectors {
            data: &ministream,
            size: 64,
            maxid: sectors.maxid * 8,
            whole: true,
        };
        // calamine would read past the mini stream from wherever its file reader stands.
        let stream = mini.chain(start, &minifat, len)?;
        return Ok(stream);
    }
    sectors.chain(start, &fats, len)
}

/// Checks the sheets calamine will build from an xls: the area each sheet's DIMENSIONS record
/// reserves, and the rectangle its cells span (calamine fills it in), per sheet and together.
fn check_xls(bytes: &[u8], limits: &SheetLimits) -> Result<(), SheetError> {
    let stream = xls_workbook_stream(bytes)?;
    let bad = || SheetError::Unreadable("damaged xls (BIFF records)".to_owned());
    let mut sheets: Vec<usize> = Vec::new();
    for rec in (Records { s: &stream }) {
        let (typ, data) = rec.ok_or_else(bad)?;
        match typ {
            0x0085 => sheets.push(le32(data, 0).ok_or_else(bad)? as usize),
            0x000A => break,
            _ => {}
        }
    }
    let mut total = 0u64;
    for (n, pos) in sheets.into_iter().enumerate() {
        let name = format!("{}", n + 1);
        let over = || too_many_cells(&name, limits);
        let sheet = stream.get(pos..).ok_or_else(bad)?;
        let mut bounds: Option<(u32, u32, u32, u32)> = None;
        let mut add = |row: u32, col: u32| {
            let b = bounds.get_or_insert((row, row, col, col));
            *b = (b.0.min(row), b.1.max(row), b.2.min(col), b.3.max(col));
        };
        let mut formula_pos = (0u32, 0u32);
        let mut seen_bof = false;
        let mut depth = 0usize;
        for rec in (Records { s: sheet }) {
            let (typ, d) = rec.ok_or_else(bad)?;
            if depth > 0 {
                match typ {
                    0x0809 => depth += 1,
                    0x000A => depth -= 1,
                    _ => {}
                }
                continue;
            }
            let at = |i: usize| le16(d, i).map(u32::from);
            match typ {
                0x0809 => {
                    if seen_bof {
                        depth += 1;
                    } else {
                        seen_bof = true;
                    }
                }
                0x0200 => {
                    let (rf, rl, cf, cl) = match d.len() {
                        10 => (at(0), at(2), at(4), at(6)),
                        14 | 16 => (le32(d, 0), le32(d, 4), at(8), at(10)),
                        _ => continue,
                    };
                    let (Some(rf), Some(rl), Some(mut cf), Some(cl)) = (rf, rl, cf, cl) else {
                        continue;
                    };
                    if cf > 0xFF || cl < cf {
                        cf = 0;
                    }
                    let (end_r, end_c) = if rl >= 1 && cl >= 1 {
                        (rl - 1, cl - 1)
                    } else {
                        (rf, cf)
                    };
                    // calamine reserves (end - start + 1) in u32 arithmetic: an end before the
                    // start wraps round to billions.
                    let rows = u64::from(end_r.wrapping_sub(rf).wrapping_add(1));
                    let cols = u64::from(end_c.wrapping_sub(cf).wrapping_add(1));
                    if rows.saturating_mul(cols) > limits.max_cells {
                        return Err(over());
                    }
                }
                0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD => {
                    if let (Some(r), Some(c)) = (at(0), at(2)) {
                        add(r, c);
                    }
                }
                0x0006 => {
                    if let (Some(r), Some(c)) = (at(0), at(2)) {
                        formula_pos = (r, c);
                        add(r, c);
                    }
                }
                0x0207 => add(formula_pos.0, formula_pos.1),
                0x00BD if d.len() >= 6 => {
                    if let (Some(r), Some(c0), Some(c1)) = (at(0), at(2), at(d.len() - 2)) {
                        add(r, c0);
                        add(r, c1);
                    }
                }
                0x000A => break,
                _ => {}
            }
        }
        if let Some((r0, r1, c0, c1)) = bounds {
            let area = (u64::from(r1 - r0) + 1) * (u64::from(c1 - c0) + 1);
            total = total.saturating_add(area);
            if area > limits.max_cells || total > limits.max_cells {
                return Err(over());
            }
        }
    }
    Ok(())
}

/// BIFF records as calamine reads them: type, length, data, and any CONTINUE records after a
/// record skipped. `None` where calamine would stop with an error.
struct Records<'a> {
    s: &'a [u8],
}

impl<'a> Iterator for Records<'a> {
    type Item = Option<(u16, &'a [u8])>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.s.is_empty() {
            return None;
        }
        let (Some(typ), Some(len)) = (le16(self.s, 0), le16(self.s, 2)) else {
            self.s = &[];
            return Some(None);
        };
        let len = usize::from(len);
        if self.s.len() < len + 4 {
            self.s = &[];
            return Some(None);
        }
        let data = &self.s[4..4 + len];
        self.s = &self.s[4 + len..];
        while self.s.len() > 4 && le16(self.s, 0) == Some(0x003C) {
            let l = usize::from(le16(self.s, 2).unwrap_or(0));
            if self.s.len() < l + 4 {
                self.s = &[];
                return Some(None);
            }
            self.s = &self.s[4 + l..];
        }
        Some(Some((typ, data)))
    }
}

/// Text of a cell as the scanner reads it.
pub(crate) fn cell_text(d: &Data) -> String {
    match d {
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 1e17 {
                format!("{}", *f as i64)
            } else {
                f.to_string()
            }
        }
        Data::DateTime(dt) => excel_date(dt.as_f64()),
        Data::Bool(b) => b.to_string(),
        Data::Error(_) | Data::Empty => String::new(),
    }
}

/// An Excel serial date as YYYY/MM/DD (epoch 1899-12-30, which absorbs the 1900 leap bug).
pub(crate) fn excel_date(serial: f64) -> String {
    let days = serial.floor() as i64;
    if !(1..=2_958_465).contains(&days) {
        return serial.to_string();
    }
    // Civil-from-days (Howard Hinnant), from 1970-01-01.
    let z = days - 25_569 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}/{m:02}/{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excel_serial_dates() {
        assert_eq!(excel_date(31_111.0), "1985/03/05");
        assert_eq!(excel_date(1.0), "1899/12/31");
    }

    #[test]
    fn limits_are_grouped_in_messages() {
        assert_eq!(group(5_000_000), "5,000,000");
        assert_eq!(group(512), "512");
    }
}
