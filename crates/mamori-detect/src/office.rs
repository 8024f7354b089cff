//! Word-processing and presentation documents as numbered paragraphs: `.docx` (body, headers,
//! footers, footnotes, comments), `.pptx` (slides and their notes, in the order the presentation
//! shows them), OpenDocument `.odt`/`.odp` (body, headers and footers; pages and notes) and
//! legacy Word `.doc` (the piece table of the `WordDocument` stream).
//!
//! Each reader returns [`Para`]s: the text of one paragraph, its 1-based number within its part
//! of the document, and the part ([`Place`]: a slide, its notes, a header …; `None` for the body
//! of a word-processing document). The scanner reports a finding at the paragraph's number as
//! its `line`, so a finding points into the document as its author sees it, not into an XML
//! member of the package.

use crate::scan::Place;
use quick_xml::events::Event;
use std::io::{Read, Seek};

/// One paragraph of a document. `text` may hold line breaks (a soft break inside the paragraph).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Para {
    pub place: Option<Place>,
    /// 1-based within `place` (within the body when `place` is `None`).
    pub number: u64,
    pub text: String,
}

/// The paragraphs of a document, with notes on what was left out.
#[derive(Debug, Default)]
pub struct Doc {
    pub paras: Vec<Para>,
    pub warnings: Vec<String>,
}

/// Which XML vocabulary a part is written in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dialect {
    /// WordprocessingML: paragraphs `w:p`, text in `w:t` (and deleted text in `w:delText`).
    Word,
    /// DrawingML (slides, notes): paragraphs `a:p`, text in `a:t`.
    Drawing,
    /// OpenDocument: paragraphs `text:p`/`text:h`; their character content is the text.
    Odf,
}

/// A zip package read member by member, with a budget for all members together: each member
/// is at most `max` bytes decompressed, and all of them at most twice that.
struct Package<R> {
    zip: zip::ZipArchive<R>,
    max: u64,
    left: u64,
}

impl<R: Read + Seek> Package<R> {
    fn open(r: R, what: &str, max: u64) -> Result<Self, String> {
        let zip =
            zip::ZipArchive::new(r).map_err(|e| format!("not a readable {what} (zip): {e}"))?;
        Ok(Package {
            zip,
            max,
            left: max.saturating_mul(2),
        })
    }

    /// One member's bytes; `None` if the package has no such member.
    fn member(&mut self, name: &str) -> Result<Option<Vec<u8>>, String> {
        let mut entry = match self.zip.by_name(name) {
            Ok(e) => e,
            Err(zip::result::ZipError::FileNotFound) => return Ok(None),
            Err(e) => return Err(format!("{name}: {e}")),
        };
        if entry.encrypted() {
            return Err(format!("not read: encrypted ({name})"));
        }
        let cap = self.max.min(self.left);
        let mut out = Vec::new();
        (&mut entry)
            .take(cap + 1)
            .read_to_end(&mut out)
            .map_err(|e| format!("cannot decompress {name}: {e}"))?;
        if out.len() as u64 > cap {
            return Err(if cap == self.max {
                format!("not read: {name} larger than {} MiB", self.max >> 20)
            } else {
                format!(
                    "not read: the document expands to more than {} MiB",
                    self.max.saturating_mul(2) >> 20
                )
            });
        }
        self.left -= out.len() as u64;
        Ok(Some(out))
    }
}

/// The paragraphs of one XML part, in document order. For ODF presentations, `pages` numbers
/// each `draw:page` and puts paragraphs in `presentation:notes` under [`Place::Notes`].
fn paragraphs(xml: &[u8], dialect: Dialect, place: Option<Place>) -> Result<Vec<Para>, String> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut out: Vec<Para> = Vec::new();
    // Paragraphs may nest (a text box inside a paragraph): one buffer per open paragraph.
    let mut open: Vec<String> = Vec::new();
    let mut in_text = 0u32;
    let mut skip = 0u32;
    let mut numbers: rustc_hash::FxHashMap<Option<Place>, u64> = rustc_hash::FxHashMap::default();
    let mut page = 0u64;
    let mut in_notes = false;
    let mut odf_place = place;
    loop {
        buf.clear();
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("malformed XML at byte {}: {e}", reader.buffer_position()))?;
        match event {
            Event::Eof => break,
            Event::Start(e) => {
                let name = e.name();
                let name = name.as_ref();
                if name == "mc:Fallback" {
                    // Markup compatibility: the fallback repeats the choice's text (a text box
                    // is written twice); only the first is read.
                    let end = e.to_end().into_owned();
                    reader
                        .read_to_end_into(end.name(), &mut Vec::new())
                        .map_err(|e| format!("malformed XML: {e}"))?;
                    continue;
                }
                match (dialect, name) {
                    (Dialect::Word, "w:p")
                    | (Dialect::Drawing, "a:p")
                    | (Dialect::Odf, "text:p" | "text:h") => open.push(String::new()),
                    (Dialect::Word, "w:t" | "w:delText") | (Dialect::Drawing, "a:t") => {
                        in_text += 1;
                    }
                    // Field instructions and note citations are not text a reader sees.
                    (Dialect::Word, "w:instrText") | (Dialect::Odf, "text:note-citation") => {
                        skip += 1;
                    }
                    (Dialect::Odf, "draw:page") => {
                        page += 1;
                        odf_place = Some(Place::Slide(page));
                    }
                    (Dialect::Odf, "presentation:notes") => {
                        in_notes = true;
                        odf_place = Some(Place::Notes(page));
                    }
                    _ => {}
                }
            }
            Event::Empty(e) => {
                let name = e.name();
                // An empty paragraph still counts.
                match (dialect, name.as_ref()) {
                    (Dialect::Odf, "text:p" | "text:h") => {
                        *numbers.entry(odf_place).or_insert(0) += 1;
                        continue;
                    }
                    (Dialect::Word, "w:p") | (Dialect::Drawing, "a:p") => {
                        *numbers.entry(place).or_insert(0) += 1;
                        continue;
                    }
                    _ => {}
                }
                let Some(cur) = open.last_mut() else { continue };
                match (dialect, name.as_ref()) {
                    (Dialect::Word, "w:tab")
                    | (Dialect::Drawing, "a:tab")
                    | (Dialect::Odf, "text:tab") => {
                        cur.push('\t');
                    }
                    (Dialect::Word, "w:br" | "w:cr")
                    | (Dialect::Drawing, "a:br")
                    | (Dialect::Odf, "text:line-break") => cur.push('\n'),
                    (Dialect::Odf, "text:s") => {
                        let n = e
                            .attributes()
                            .with_checks(false)
                            .flatten()
                            .find(|a| a.key.as_ref() == "text:c")
                            .and_then(|a| a.value.trim().parse::<usize>().ok())
                            .unwrap_or(1);
                        cur.extend(std::iter::repeat_n(' ', n.min(64)));
                    }
                    _ => {}
                }
            }
            Event::End(e) => {
                let name = e.name();
                match (dialect, name.as_ref()) {
                    (Dialect::Word, "w:p")
                    | (Dialect::Drawing, "a:p")
                    | (Dialect::Odf, "text:p" | "text:h") => {
                        let text = open.pop().unwrap_or_default();
                        let at = if dialect == Dialect::Odf {
                            odf_place
                        } else {
                            place
                        };
                        let n = numbers.entry(at).or_insert(0);
                        *n += 1;
                        if !text.trim().is_empty() {
                            out.push(Para {
                                place: at,
                                number: *n,
                                text,
                            });
                        }
                    }
                    (Dialect::Word, "w:t" | "w:delText") | (Dialect::Drawing, "a:t") => {
                        in_text = in_text.saturating_sub(1);
                    }
                    (Dialect::Word, "w:instrText") | (Dialect::Odf, "text:note-citation") => {
                        skip = skip.saturating_sub(1);
                    }
                    (Dialect::Odf, "presentation:notes") if in_notes => {
                        in_notes = false;
                        odf_place = Some(Place::Slide(page));
                    }
                    (Dialect::Odf, "draw:page") => odf_place = place,
                    _ => {}
                }
            }
            Event::Text(t) => {
                let wanted = skip == 0 && (dialect == Dialect::Odf || in_text > 0);
                if let (true, Some(cur)) = (wanted, open.last_mut()) {
                    let s = t.xml10_content();
                    if dialect == Dialect::Odf {
                        // Outside text:s, runs of white space in ODF collapse to one space.
                        push_collapsed(cur, &s);
                    } else {
                        cur.push_str(&s);
                    }
                }
            }
            Event::CData(t) => {
                if let (true, Some(cur)) = (skip == 0 && in_text > 0, open.last_mut()) {
                    cur.push_str(t.as_ref());
                }
            }
            Event::GeneralRef(r) => {
                let wanted = skip == 0 && (dialect == Dialect::Odf || in_text > 0);
                if let (true, Some(cur)) = (wanted, open.last_mut()) {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        cur.push(c);
                    } else {
                        let c = match &*r.xml10_content() {
                            "amp" => '&',
                            "lt" => '<',
                            "gt" => '>',
                            "quot" => '"',
                            "apos" => '\'',
                            _ => continue,
                        };
                        cur.push(c);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

fn push_collapsed(out: &mut String, s: &str) {
    for c in s.chars() {
        if matches!(c, ' ' | '\t' | '\n' | '\r') {
            if !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
}

/// The number in a member name like `word/header12.xml` or `ppt/slides/slide3.xml`.
fn member_number(name: &str) -> u64 {
    let stem = name.rsplit('/').next().unwrap_or(name);
    let stem = stem.strip_suffix(".xml").unwrap_or(stem);
    let digits: String = stem
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().unwrap_or(0)
}

/// Member names matching `prefix` + digits + `.xml`, sorted by their number.
fn numbered_members<R: Read + Seek>(zip: &zip::ZipArchive<R>, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = zip
        .file_names()
        .filter_map(Result::ok)
        .filter(|n| {
            n.strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix(".xml"))
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(std::borrow::Cow::into_owned)
        .collect();
    names.sort_by_key(|n| member_number(n));
    names
}

/// A `.docx`: the body (paragraphs numbered from 1, in tables too), then each header and footer
/// ([`Place::Header`]/[`Place::Footer`], numbered as in the package), footnotes, endnotes and
/// comments (numbered on after the body).
pub fn docx<R: Read + Seek>(r: R, max: u64) -> Result<Doc, String> {
    let mut pkg = Package::open(r, "docx", max)?;
    let body = pkg
        .member("word/document.xml")?
        .ok_or("not a docx: word/document.xml is missing")?;
    let mut doc = Doc {
        paras: paragraphs(&body, Dialect::Word, None)?,
        warnings: Vec::new(),
    };
    drop(body);
    // Notes and comments continue the body's numbering, after its last paragraph.
    for part in [
        "word/footnotes.xml",
        "word/endnotes.xml",
        "word/comments.xml",
    ] {
        if let Some(xml) = pkg.member(part)? {
            let last = doc
                .paras
                .iter()
                .filter(|p| p.place.is_none())
                .map(|p| p.number)
                .max();
            let offset = last.unwrap_or(0);
            match paragraphs(&xml, Dialect::Word, None) {
                Ok(ps) => doc.paras.extend(ps.into_iter().map(|mut p| {
                    p.number += offset;
                    p
                })),
                Err(e) => doc.warnings.push(format!("{part}: {e}")),
            }
        }
    }
    for (prefix, header) in [("word/header", true), ("word/footer", false)] {
        for name in numbered_members(&pkg.zip, prefix) {
            let n = member_number(&name);
            let place = if header {
                Place::Header(n)
            } else {
                Place::Footer(n)
            };
            if let Some(xml) = pkg.member(&name)? {
                match paragraphs(&xml, Dialect::Word, Some(place)) {
                    Ok(ps) => doc.paras.extend(ps),
                    Err(e) => doc.warnings.push(format!("{name}: {e}")),
                }
            }
        }
    }
    Ok(doc)
}

/// `Id` → `Target` of a relationships part, targets resolved against `base` (a folder).
fn relationships(xml: &[u8], base: &str) -> Vec<(String, String, String)> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    while let Ok(event) = reader.read_event_into(&mut buf) {
        match event {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "Relationship" => {
                let mut id = String::new();
                let mut target = String::new();
                let mut kind = String::new();
                for a in e.attributes().with_checks(false).flatten() {
                    match a.key.as_ref() {
                        "Id" => id = a.value.into_owned(),
                        "Target" => target = a.value.into_owned(),
                        "Type" => kind = a.value.into_owned(),
                        _ => {}
                    }
                }
                out.push((id, resolve(base, &target), kind));
            }
            _ => {}
        }
        buf.clear();
    }
    out
}

/// `base` + relative `target` with `..` resolved ("ppt/slides" + "../notesSlides/n1.xml").
fn resolve(base: &str, target: &str) -> String {
    if let Some(abs) = target.strip_prefix('/') {
        return abs.to_owned();
    }
    let mut parts: Vec<&str> = base.split('/').filter(|s| !s.is_empty()).collect();
    for seg in target.split('/') {
        match seg {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// The slide members of a presentation in the order it shows them (`p:sldIdLst`), falling back
/// to the order of their numbers.
fn slide_order<R: Read + Seek>(pkg: &mut Package<R>) -> Result<Vec<String>, String> {
    let pres = pkg.member("ppt/presentation.xml")?;
    let rels = pkg.member("ppt/_rels/presentation.xml.rels")?;
    if let (Some(pres), Some(rels)) = (pres, rels) {
        let rels = relationships(&rels, "ppt");
        let mut reader = quick_xml::Reader::from_reader(pres.as_slice());
        let mut buf = Vec::new();
        let mut order = Vec::new();
        while let Ok(event) = reader.read_event_into(&mut buf) {
            match event {
                Event::Eof => break,
                Event::Start(e) | Event::Empty(e) if e.name().as_ref() == "p:sldId" => {
                    let rid = e
                        .attributes()
                        .with_checks(false)
                        .flatten()
                        .find(|a| a.key.as_ref() == "r:id")
                        .map(|a| a.value.into_owned());
                    if let Some((_, target, _)) =
                        rid.and_then(|rid| rels.iter().find(|(id, _, _)| *id == rid))
                    {
                        order.push(target.clone());
                    }
                }
                _ => {}
            }
            buf.clear();
        }
        if !order.is_empty() {
            return Ok(order);
        }
    }
    Ok(numbered_members(&pkg.zip, "ppt/slides/slide"))
}

/// A `.pptx`: each slide's paragraphs under [`Place::Slide`] (the slide's position in the
/// presentation), and its speaker notes under [`Place::Notes`].
pub fn pptx<R: Read + Seek>(r: R, max: u64) -> Result<Doc, String> {
    let mut pkg = Package::open(r, "pptx", max)?;
    let slides = slide_order(&mut pkg)?;
    if slides.is_empty() && pkg.zip.by_name("ppt/presentation.xml").is_err() {
        return Err("not a pptx: ppt/presentation.xml is missing".to_owned());
    }
    let mut doc = Doc::default();
    for (i, slide) in slides.iter().enumerate() {
        let n = i as u64 + 1;
        let Some(xml) = pkg.member(slide)? else {
            doc.warnings.push(format!("slide {n}: {slide} is missing"));
            continue;
        };
        match paragraphs(&xml, Dialect::Drawing, Some(Place::Slide(n))) {
            Ok(ps) => doc.paras.extend(ps),
            Err(e) => doc.warnings.push(format!("slide {n}: {e}")),
        }
        let (dir, file) = slide.rsplit_once('/').unwrap_or(("", slide));
        let rels_name = format!("{dir}/_rels/{file}.rels");
        let Some(rels) = pkg.member(&rels_name)? else {
            continue;
        };
        for (_, target, kind) in relationships(&rels, dir) {
            if kind.ends_with("/diagramData") {
                // SmartArt: its text lives in the diagram's data part; it continues the slide's
                // paragraph numbers.
                let last = doc
                    .paras
                    .iter()
                    .filter(|p| p.place == Some(Place::Slide(n)))
                    .map(|p| p.number)
                    .max()
                    .unwrap_or(0);
                if let Some(xml) = pkg.member(&target)? {
                    match paragraphs(&xml, Dialect::Drawing, Some(Place::Slide(n))) {
                        Ok(ps) => doc.paras.extend(ps.into_iter().map(|mut p| {
                            p.number += last;
                            p
                        })),
                        Err(e) => doc.warnings.push(format!("diagram on slide {n}: {e}")),
                    }
                }
                continue;
            }
            if !kind.ends_with("/notesSlide") {
                continue;
            }
            if let Some(xml) = pkg.member(&target)? {
                match paragraphs(&xml, Dialect::Drawing, Some(Place::Notes(n))) {
                    Ok(ps) => doc
                        .paras
                        .extend(ps.into_iter().filter(|p| !is_slide_number(p, n))),
                    Err(e) => doc.warnings.push(format!("notes of slide {n}: {e}")),
                }
            }
        }
    }
    Ok(doc)
}

/// The slide-number placeholder of a notes page ("3") is not part of the notes.
fn is_slide_number(p: &Para, n: u64) -> bool {
    p.text.trim() == n.to_string()
}

/// An OpenDocument text (`.odt`) or presentation (`.odp`): the body from `content.xml` (pages of
/// a presentation as [`Place::Slide`], their notes as [`Place::Notes`]) and the headers and
/// footers of the master pages in `styles.xml`.
pub fn odf<R: Read + Seek>(r: R, max: u64) -> Result<Doc, String> {
    let mut pkg = Package::open(r, "OpenDocument file", max)?;
    let content = pkg
        .member("content.xml")?
        .ok_or("not an OpenDocument file: content.xml is missing")?;
    let mut doc = Doc {
        paras: paragraphs(&content, Dialect::Odf, None)?,
        warnings: Vec::new(),
    };
    drop(content);
    if let Some(styles) = pkg.member("styles.xml")? {
        match odf_headers(&styles) {
            Ok(ps) => doc.paras.extend(ps),
            Err(e) => doc.warnings.push(format!("styles.xml: {e}")),
        }
    }
    Ok(doc)
}

/// Paragraphs in `style:header`/`style:footer` (and their `-left`/`-first` variants) of
/// `styles.xml`, each header or footer numbered in file order.
fn odf_headers(xml: &[u8]) -> Result<Vec<Para>, String> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let (mut headers, mut footers) = (0u64, 0u64);
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf) {
            Err(e) => return Err(format!("malformed XML: {e}")),
            Ok(Event::Eof) => break,
            Ok(Event::Start(e)) => {
                let name = e.name().as_ref().to_owned();
                let place = match name.as_str() {
                    "style:header" | "style:header-left" | "style:header-first" => {
                        headers += 1;
                        Place::Header(headers)
                    }
                    "style:footer" | "style:footer-left" | "style:footer-first" => {
                        footers += 1;
                        Place::Footer(footers)
                    }
                    _ => continue,
                };
                let end_tag = e.to_end().into_owned();
                let span = reader
                    .read_to_end_into(end_tag.name(), &mut Vec::new())
                    .map_err(|e| format!("malformed XML: {e}"))?;
                let end = (span.end as usize).min(xml.len());
                let inner = &xml[(span.start as usize).min(end)..end];
                out.extend(paragraphs(inner, Dialect::Odf, Some(place))?);
            }
            Ok(_) => {}
        }
    }
    Ok(out)
}

/// A legacy Word document (`.doc`, Word 97 and later): the text of its piece table, one
/// paragraph per `\r`, table cells (`\x07`) as paragraphs, field instructions left out. Text
/// after the main document (footnotes, headers, comments, text boxes) follows it in the same
/// numbering.
pub fn doc(bytes: &[u8]) -> Result<Doc, String> {
    let mut cfb = cfb::CompoundFile::open(std::io::Cursor::new(bytes))
        .map_err(|e| format!("not a readable Word document (OLE): {e}"))?;
    let word = read_stream(&mut cfb, "/WordDocument", bytes.len() as u64)?
        .ok_or("not a Word document: no WordDocument stream")?;
    let u16_at = |b: &[u8], o: usize| b.get(o..o + 2).map(|s| u16::from_le_bytes([s[0], s[1]]));
    let u32_at = |b: &[u8], o: usize| {
        b.get(o..o + 4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    };
    let ident = u16_at(&word, 0).ok_or("WordDocument stream too short")?;
    if ident != 0xA5EC {
        return Err(format!(
            "not a Word 97-2003 document (FIB identifier {ident:#06x})"
        ));
    }
    let flags = u16_at(&word, 0x0A).unwrap_or(0);
    if flags & 0x0100 != 0 {
        return Err("not read: encrypted".to_owned());
    }
    let table_name = if flags & 0x0200 != 0 {
        "/1Table"
    } else {
        "/0Table"
    };
    let table = read_stream(&mut cfb, table_name, bytes.len() as u64)?
        .ok_or_else(|| format!("{} stream missing", &table_name[1..]))?;
    let fc_clx = u32_at(&word, 0x01A2).ok_or("FIB too short")? as usize;
    let lcb_clx = u32_at(&word, 0x01A6).ok_or("FIB too short")? as usize;
    let clx = table
        .get(fc_clx..fc_clx.saturating_add(lcb_clx))
        .ok_or("piece table outside the table stream")?;
    // Skip Prc entries (0x01, cbGrpprl, grpprl) to the Pcdt (0x02, lcb, PlcPcd).
    let mut i = 0;
    while clx.get(i) == Some(&0x01) {
        let cb = u16_at(clx, i + 1).ok_or("truncated piece table")? as usize;
        i += 3 + cb;
    }
    if clx.get(i) != Some(&0x02) {
        return Err("no piece table in the document".to_owned());
    }
    let lcb = u32_at(clx, i + 1).ok_or("truncated piece table")? as usize;
    let plc = clx.get(i + 5..i + 5 + lcb).ok_or("truncated piece table")?;
    if plc.len() < 4 || (plc.len() - 4) % 12 != 0 {
        return Err("malformed piece table".to_owned());
    }
    let n = (plc.len() - 4) / 12;
    // (character position, character): a CP counts UTF-16 code units, so a character outside
    // the BMP takes two.
    let mut text: Vec<(u32, char)> = Vec::new();
    for k in 0..n {
        let cp0 = u32_at(plc, k * 4).unwrap_or(0);
        let cp1 = u32_at(plc, (k + 1) * 4).unwrap_or(0);
        let chars = cp1.saturating_sub(cp0) as usize;
        let pcd = 4 * (n + 1) + k * 8;
        let fc = u32_at(plc, pcd + 2).ok_or("truncated piece descriptor")?;
        let compressed = fc & 0x4000_0000 != 0;
        let fc = (fc & 0x3FFF_FFFF) as usize;
        let mut cp = cp0;
        if compressed {
            let start = fc / 2;
            let raw = word
                .get(start..start.saturating_add(chars))
                .ok_or("a text piece lies outside the document stream")?;
            let decoded = encoding_rs::WINDOWS_1252.decode_without_bom_handling(raw).0;
            for c in decoded.chars() {
                text.push((cp, c));
                cp += 1;
            }
        } else {
            let raw = word
                .get(fc..fc.saturating_add(chars.saturating_mul(2)))
                .ok_or("a text piece lies outside the document stream")?;
            let units = raw
                .chunks_exact(2)
                .map(|u| u16::from_le_bytes([u[0], u[1]]));
            for c in char::decode_utf16(units) {
                let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
                text.push((cp, c));
                cp += c.len_utf16() as u32;
            }
        }
    }
    let stories = Stories::read(&word, &table);
    let mut doc = Doc::default();
    let mut numbers: rustc_hash::FxHashMap<Option<Place>, u64> = rustc_hash::FxHashMap::default();
    let mut cur = String::new();
    let mut cur_cp: Option<u32> = None;
    // Fields: \x13 instruction \x14 result \x15; the instruction is not shown text.
    let mut in_instr: Vec<bool> = Vec::new();
    let mut end_para = |cur: &mut String, cp: Option<u32>, doc: &mut Doc| {
        let place = cp.and_then(|cp| stories.place(cp));
        let n = numbers.entry(place).or_insert(0);
        *n += 1;
        if !cur.trim().is_empty() {
            doc.paras.push(Para {
                place,
                number: *n,
                text: std::mem::take(cur),
            });
        }
        cur.clear();
    };
    for &(cp, c) in &text {
        if cur_cp.is_none() {
            cur_cp = Some(cp);
        }
        match c {
            '\r' | '\x07' | '\x0C' => {
                end_para(&mut cur, cur_cp, &mut doc);
                cur_cp = None;
            }
            '\x13' => in_instr.push(true),
            '\x14' => {
                if let Some(top) = in_instr.last_mut() {
                    *top = false;
                }
            }
            '\x15' => {
                in_instr.pop();
            }
            _ if in_instr.iter().any(|&b| b) => {}
            '\x0B' => cur.push('\n'),
            '\t' => cur.push('\t'),
            c if (c as u32) < 0x20 => {}
            c => cur.push(c),
        }
    }
    end_para(&mut cur, cur_cp, &mut doc);
    Ok(doc)
}

/// Where the header story of a Word document lies and how it divides into headers and footers
/// (the FIB's character counts and the PlcfHdd of the table stream).
struct Stories {
    /// Start and end CP of the header story.
    hdd: (u32, u32),
    /// CPs (relative to the story) where each header/footer starts; the first six are the
    /// separators, then six per section: even, odd header; even, odd footer; first header,
    /// first footer.
    plc: Vec<u32>,
    /// Ordinal of each non-empty header and footer, by index into `plc`.
    ordinal: Vec<Option<Place>>,
}

impl Stories {
    fn read(word: &[u8], table: &[u8]) -> Stories {
        let u32_at = |b: &[u8], o: usize| {
            b.get(o..o + 4)
                .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        };
        // FibRgLw97 starts at byte 64: ccpText at +12, ccpFtn at +16, ccpHdd at +20.
        let ccp_text = u32_at(word, 64 + 12);
        let ccp_ftn = u32_at(word, 64 + 16);
        let ccp_hdd = u32_at(word, 64 + 20);
        let start = ccp_text.saturating_add(ccp_ftn);
        // FibRgFcLcb97 starts at byte 154: fcPlcfHdd/lcbPlcfHdd is its 12th pair.
        let fc = u32_at(word, 154 + 11 * 8) as usize;
        let lcb = u32_at(word, 154 + 11 * 8 + 4) as usize;
        let plc: Vec<u32> = table
            .get(fc..fc.saturating_add(lcb))
            .map(|b| {
                b.chunks_exact(4)
                    .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect()
            })
            .unwrap_or_default();
        let (mut headers, mut footers) = (0u64, 0u64);
        let ordinal = (0..plc.len().saturating_sub(1))
            .map(|i| {
                if i < 6 || plc[i + 1] <= plc[i] {
                    return None;
                }
                if matches!((i - 6) % 6, 0 | 1 | 4) {
                    headers += 1;
                    Some(Place::Header(headers))
                } else {
                    footers += 1;
                    Some(Place::Footer(footers))
                }
            })
            .collect();
        Stories {
            hdd: (start, start.saturating_add(ccp_hdd)),
            plc,
            ordinal,
        }
    }

    /// The header or footer a paragraph starting at `cp` belongs to; `None` for the body (and
    /// the other stories, which continue its numbering).
    fn place(&self, cp: u32) -> Option<Place> {
        if cp < self.hdd.0 || cp >= self.hdd.1 {
            return None;
        }
        let rel = cp - self.hdd.0;
        let i = self.plc.iter().rposition(|&start| start <= rel)?;
        self.ordinal.get(i).copied().flatten()
    }
}

/// One stream of a compound file, refused past `max` bytes.
pub(crate) fn read_stream<F: Read + Seek>(
    cfb: &mut cfb::CompoundFile<F>,
    path: &str,
    max: u64,
) -> Result<Option<Vec<u8>>, String> {
    if !cfb.is_stream(path) {
        return Ok(None);
    }
    let mut s = cfb
        .open_stream(path)
        .map_err(|e| format!("cannot read {path}: {e}"))?;
    if s.len() > max {
        return Err(format!("{path} larger than the file"));
    }
    let mut out = Vec::with_capacity(s.len() as usize);
    s.read_to_end(&mut out)
        .map_err(|e| format!("cannot read {path}: {e}"))?;
    Ok(Some(out))
}

/// What an OLE compound file holds: "encrypted" (an encrypted OOXML package), "doc", "msg", or
/// "spreadsheet" (anything else).
pub fn cfb_kind(bytes: &[u8]) -> &'static str {
    let Ok(cfb) = cfb::CompoundFile::open(std::io::Cursor::new(bytes)) else {
        return "spreadsheet";
    };
    if cfb.is_stream("/EncryptedPackage") {
        // A password-protected docx, xlsx or pptx (ECMA-376 agile or standard encryption).
        "encrypted"
    } else if cfb.is_stream("/WordDocument") {
        "doc"
    } else if cfb.is_stream("/__properties_version1.0") {
        "msg"
    } else {
        "spreadsheet"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_paragraphs_are_numbered_with_runs_joined() {
        let xml = br#"<w:document><w:body><w:p><w:r><w:t>A</w:t></w:r></w:p><w:p/><w:p><w:r><w:instrText>PAGE</w:instrText></w:r><w:r><w:t xml:space="preserve">&#x5C71;</w:t></w:r><w:r><w:t>&amp;&#x7530;</w:t></w:r><w:r><w:br/><w:t>x</w:t></w:r></w:p></w:body></w:document>"#;
        let ps = paragraphs(xml, Dialect::Word, None).unwrap();
        let got: Vec<(u64, &str)> = ps.iter().map(|p| (p.number, p.text.as_str())).collect();
        assert_eq!(got, vec![(1, "A"), (3, "山&田\nx")]);
    }

    #[test]
    fn odf_pages_and_notes() {
        let xml = br#"<office:body><office:presentation><draw:page><draw:frame><draw:text-box><text:p>one<text:s text:c="2"/>two</text:p></draw:text-box></draw:frame><presentation:notes><draw:frame><draw:text-box><text:p>note</text:p></draw:text-box></draw:frame></presentation:notes></draw:page><draw:page><text:p>second</text:p></draw:page></office:presentation></office:body>"#;
        let ps = paragraphs(xml, Dialect::Odf, None).unwrap();
        let got: Vec<(Option<Place>, u64, &str)> = ps
            .iter()
            .map(|p| (p.place, p.number, p.text.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (Some(Place::Slide(1)), 1, "one  two"),
                (Some(Place::Notes(1)), 1, "note"),
                (Some(Place::Slide(2)), 1, "second"),
            ]
        );
    }

    #[test]
    fn a_text_box_written_twice_for_compatibility_is_read_once() {
        let xml = br#"<w:body><w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wps:txbx><w:txbxContent><w:p><w:r><w:t>box</w:t></w:r></w:p></w:txbxContent></wps:txbx></w:drawing></mc:Choice><mc:Fallback><w:pict><v:textbox><w:txbxContent><w:p><w:r><w:t>box</w:t></w:r></w:p></w:txbxContent></v:textbox></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p><w:p><w:r><w:t>next</w:t></w:r></w:p></w:body>"#;
        let ps = paragraphs(xml, Dialect::Word, None).unwrap();
        let got: Vec<(u64, &str)> = ps.iter().map(|p| (p.number, p.text.as_str())).collect();
        assert_eq!(got, vec![(1, "box"), (3, "next")]);
    }

    #[test]
    fn malformed_xml_is_an_error_not_a_panic() {
        assert!(paragraphs(b"<w:p><w:t>a</w:x></w:p>", Dialect::Word, None).is_err());
        assert_eq!(
            resolve("ppt/slides", "../notesSlides/n1.xml"),
            "ppt/notesSlides/n1.xml"
        );
    }
}
