//! PDF text layers, page by page.
//!
//! lopdf parses the file (objects, streams, filters, the page tree); the text is read here from
//! each page's content stream: text-showing operators are decoded through the font's
//! `/ToUnicode` CMap (`bfchar` and `bfrange`, code lengths from `codespacerange`) — which is how
//! CID fonts (`Type0`, `Identity-H`) carry Japanese — through a predefined Unicode or Shift_JIS
//! CMap when a CID font has no ToUnicode, and through the simple font's encoding (lopdf's
//! standard encodings and `/Differences`) otherwise. lopdf's own `extract_text` is not used: it
//! prefers `/Encoding` over `/ToUnicode`, breaks lines only at `ET`/`T*`, and does not enter
//! form XObjects.
//!
//! Lines are rebuilt from the text positions: a move to another baseline starts a new line, a
//! wide gap on the same baseline becomes a space. A page whose content draws images but shows no
//! text is reported as image-only (for OCR).

use lopdf::content::{Content, Operation};
use lopdf::{Dictionary, Document, Object};
use rustc_hash::FxHashMap;
use std::fmt::Write as _;

/// The text of one page.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Page {
    /// Lines of the page in content order.
    pub lines: Vec<String>,
    /// The page draws images (or inline images).
    pub images: bool,
    /// Glyphs were shown that no font mapping could turn into text.
    pub undecodable: bool,
}

impl Page {
    /// No text layer: nothing readable was shown.
    pub fn is_image_only(&self) -> bool {
        self.lines.iter().all(|l| l.trim().is_empty()) && (self.images || self.undecodable)
    }
}

/// Why a PDF was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PdfError {
    /// Encrypted with a password other than the empty one.
    Encrypted,
    Malformed(String),
}

/// How much a PDF may expand: per page content, per font CMap, and in total.
#[derive(Clone, Copy, Debug)]
pub struct PdfLimits {
    pub max_content: usize,
    pub max_pages: usize,
    pub max_text: usize,
    /// Content operators run per page, forms included (forms shown many times by forms shown
    /// many times would otherwise multiply without bound).
    pub max_ops: u64,
}

impl Default for PdfLimits {
    fn default() -> Self {
        PdfLimits {
            max_content: 64 << 20,
            max_pages: 10_000,
            max_text: 64 << 20,
            max_ops: 20_000_000,
        }
    }
}

/// Reads the text of every page (at most `limits.max_pages`; the bool says whether pages were
/// left out).
pub fn read(bytes: &[u8], limits: PdfLimits) -> Result<(Vec<Page>, Vec<String>), PdfError> {
    let doc = Document::load_mem(bytes).map_err(|e| match e {
        lopdf::Error::Decryption(_) | lopdf::Error::InvalidPassword => PdfError::Encrypted,
        e => PdfError::Malformed(e.to_string()),
    })?;
    if doc.is_encrypted() {
        return Err(PdfError::Encrypted);
    }
    let mut warnings = Vec::new();
    let pages = doc.get_pages();
    if pages.len() > limits.max_pages {
        warnings.push(format!(
            "{} pages; only the first {} are read",
            pages.len(),
            limits.max_pages
        ));
    }
    let mut out = Vec::new();
    let mut fonts: FxHashMap<lopdf::ObjectId, Font> = FxHashMap::default();
    let mut total = 0usize;
    for (&number, &page_id) in pages.iter().take(limits.max_pages) {
        let mut page = Page::default();
        match doc.get_page_content_with_limit(page_id, limits.max_content) {
            Ok(content) => {
                let res = page_resources(&doc, page_id);
                let mut walker = Walker {
                    doc: &doc,
                    fonts: &mut fonts,
                    page: &mut page,
                    line: String::new(),
                    depth: 0,
                    forms: Vec::new(),
                    marked: Vec::new(),
                    parsed: FxHashMap::default(),
                    ops: 0,
                    limits,
                };
                if let Err(e) = walker.run(&content, &res) {
                    warnings.push(format!("page {number}: {e}"));
                }
                walker.flush();
            }
            Err(e) => warnings.push(format!("page {number}: {e}")),
        }
        if page.undecodable && !page.is_image_only() {
            warnings.push(format!(
                "page {number}: some text uses a font without a Unicode map and was not read"
            ));
        }
        total += page.lines.iter().map(String::len).sum::<usize>();
        out.push(page);
        if total > limits.max_text {
            warnings.push(format!(
                "more than {} MiB of text; the rest is not read",
                limits.max_text >> 20
            ));
            break;
        }
    }
    Ok((out, warnings))
}

/// The resource dictionaries of a page: its own or inherited `/Resources`.
fn page_resources(doc: &Document, page_id: lopdf::ObjectId) -> Vec<&Dictionary> {
    let mut out = Vec::new();
    if let Ok((dict, ids)) = doc.get_page_resources(page_id) {
        if let Some(d) = dict {
            out.push(d);
        }
        for id in ids {
            if let Ok(d) = doc.get_dictionary(id) {
                out.push(d);
            }
        }
    }
    out
}

/// `resources[category][name]`, dereferenced.
fn lookup<'a>(
    doc: &'a Document,
    resources: &[&'a Dictionary],
    category: &[u8],
    name: &[u8],
) -> Option<(Option<lopdf::ObjectId>, &'a Object)> {
    for res in resources {
        let Ok(cat) = res.get(category) else { continue };
        let Ok((_, cat)) = doc.dereference(cat) else {
            continue;
        };
        let Ok(cat) = cat.as_dict() else { continue };
        if let Ok(obj) = cat.get(name) {
            if let Ok(found) = doc.dereference(obj) {
                return Some(found);
            }
        }
    }
    None
}

struct Walker<'a> {
    doc: &'a Document,
    fonts: &'a mut FxHashMap<lopdf::ObjectId, Font>,
    page: &'a mut Page,
    line: String,
    depth: u32,
    /// Open marked-content sequences; true for those with /ActualText.
    marked: Vec<bool>,
    /// Form XObjects parsed on this page.
    parsed: FxHashMap<lopdf::ObjectId, std::rc::Rc<Vec<Operation>>>,
    /// The form XObjects being shown (a form that shows itself is not entered again).
    forms: Vec<lopdf::ObjectId>,
    /// Operators run on this page, forms included (`PdfLimits::max_ops`).
    ops: u64,
    limits: PdfLimits,
}

/// Text state carried through one content stream.
#[derive(Clone)]
struct State {
    font: Option<lopdf::ObjectId>,
    inline_font: Option<std::rc::Rc<Font>>,
    size: f32,
    leading: f32,
    /// The line matrix (a b c d e f).
    tlm: [f32; 6],
    /// Baseline y, start x and (estimated) end x of the last shown text.
    last: Option<(f32, f32, f32)>,
}

impl<'a> Walker<'a> {
    fn flush(&mut self) {
        let l = std::mem::take(&mut self.line);
        let t = l.trim();
        if !t.is_empty() {
            self.page.lines.push(t.to_owned());
        }
    }

    fn run(&mut self, content: &[u8], resources: &[&'a Dictionary]) -> Result<(), String> {
        let content = Content::decode(content).map_err(|e| format!("content stream: {e}"))?;
        self.run_ops(&content.operations, resources)
    }

    fn run_ops(
        &mut self,
        operations: &[Operation],
        resources: &[&'a Dictionary],
    ) -> Result<(), String> {
        let mut st = State {
            font: None,
            inline_font: None,
            size: 12.0,
            leading: 0.0,
            tlm: [1.0, 0.0, 0.0, 1.0, 0.0, 0.0],
            last: None,
        };
        let mut stack: Vec<State> = Vec::new();
        for op in operations {
            self.ops += 1;
            if self.ops > self.limits.max_ops {
                return Err(format!(
                    "more than {} content operators; the rest of the page is not read",
                    self.limits.max_ops
                ));
            }
            let num = |i: usize| {
                op.operands
                    .get(i)
                    .and_then(|o| o.as_float().ok())
                    .unwrap_or(0.0)
            };
            match op.operator.as_str() {
                "q" => stack.push(st.clone()),
                "Q" => {
                    if let Some(s) = stack.pop() {
                        // The text position is not part of the graphics state.
                        let last = st.last;
                        st = s;
                        st.last = last;
                    }
                }
                "BT" => st.tlm = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0],
                "Tf" => {
                    st.size = num(1);
                    st.font = None;
                    st.inline_font = None;
                    if let Some(name) = op.operands.first().and_then(|o| o.as_name().ok()) {
                        match lookup(self.doc, resources, b"Font", name) {
                            Some((Some(id), obj)) => {
                                if !self.fonts.contains_key(&id) {
                                    let f = obj
                                        .as_dict()
                                        .map(|d| Font::new(self.doc, d, self.limits.max_content))
                                        .unwrap_or_default();
                                    self.fonts.insert(id, f);
                                }
                                st.font = Some(id);
                            }
                            Some((None, obj)) => {
                                st.inline_font = obj.as_dict().ok().map(|d| {
                                    std::rc::Rc::new(Font::new(
                                        self.doc,
                                        d,
                                        self.limits.max_content,
                                    ))
                                });
                            }
                            None => {}
                        }
                    }
                }
                "TL" => st.leading = num(0),
                "Td" | "TD" => {
                    let (tx, ty) = (num(0), num(1));
                    if op.operator == "TD" {
                        st.leading = -ty;
                    }
                    let t = st.tlm;
                    st.tlm[4] = tx * t[0] + ty * t[2] + t[4];
                    st.tlm[5] = tx * t[1] + ty * t[3] + t[5];
                }
                "Tm" => {
                    st.tlm = [num(0), num(1), num(2), num(3), num(4), num(5)];
                }
                "T*" => Self::next_line(&mut st),
                "Tj" | "TJ" | "'" | "\"" => {
                    if op.operator == "'" || op.operator == "\"" {
                        Self::next_line(&mut st);
                    }
                    let operand = if op.operator == "\"" {
                        op.operands.get(2)
                    } else {
                        op.operands.first()
                    };
                    if let Some(o) = operand {
                        self.show(&mut st, o);
                    }
                }
                "Do" => {
                    let Some(name) = op.operands.first().and_then(|o| o.as_name().ok()) else {
                        continue;
                    };
                    let Some((id, obj)) = lookup(self.doc, resources, b"XObject", name) else {
                        continue;
                    };
                    if id.is_some_and(|id| self.forms.contains(&id)) {
                        continue;
                    }
                    let Ok(stream) = obj.as_stream() else {
                        continue;
                    };
                    match stream.dict.get(b"Subtype").and_then(Object::as_name) {
                        Ok(b"Image") => self.page.images = true,
                        Ok(b"Form") if self.depth < 8 => {
                            let ops = self.form_ops(id, stream)?;
                            let mut inner: Vec<&'a Dictionary> =
                                Vec::with_capacity(resources.len() + 1);
                            if let Ok(r) = stream.dict.get(b"Resources") {
                                if let Ok((_, Object::Dictionary(d))) = self.doc.dereference(r) {
                                    inner.push(d);
                                }
                            }
                            inner.extend_from_slice(resources);
                            self.depth += 1;
                            self.forms.extend(id);
                            let r = self.run_ops(&ops, &inner);
                            if id.is_some() {
                                self.forms.pop();
                            }
                            self.depth -= 1;
                            r?;
                        }
                        _ => {}
                    }
                }
                "BI" | "EI" | "ID" => self.page.images = true,
                // Marked content with /ActualText: that text replaces the glyphs inside.
                "BMC" => self.marked.push(false),
                "BDC" => {
                    let actual = op.operands.get(1).and_then(|p| {
                        let dict = match p {
                            Object::Dictionary(d) => Some(d),
                            Object::Name(n) => lookup(self.doc, resources, b"Properties", n)
                                .and_then(|(_, o)| o.as_dict().ok()),
                            _ => None,
                        }?;
                        match dict.get(b"ActualText") {
                            Ok(Object::String(b, _)) => Some(text_string(b)),
                            _ => None,
                        }
                    });
                    if let Some(text) = &actual {
                        if !self.marked.contains(&true) {
                            self.position(&mut st);
                            let before = self.line.len();
                            self.line.push_str(text);
                            self.advance(&mut st, before);
                        }
                    }
                    self.marked.push(actual.is_some());
                }
                "EMC" => {
                    self.marked.pop();
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The operators of a form XObject, parsed once per page (a form is often shown many times).
    fn form_ops(
        &mut self,
        id: Option<lopdf::ObjectId>,
        stream: &lopdf::Stream,
    ) -> Result<std::rc::Rc<Vec<Operation>>, String> {
        if let Some(ops) = id.and_then(|id| self.parsed.get(&id)) {
            return Ok(std::rc::Rc::clone(ops));
        }
        let data = if stream.dict.has(b"Filter") {
            stream
                .decompressed_content_with_limit(self.limits.max_content)
                .map_err(|e| format!("form XObject: {e}"))?
        } else {
            stream.content.clone()
        };
        let ops = std::rc::Rc::new(
            Content::decode(&data)
                .map_err(|e| format!("form XObject: {e}"))?
                .operations,
        );
        if let Some(id) = id {
            self.parsed.insert(id, std::rc::Rc::clone(&ops));
        }
        Ok(ops)
    }

    fn next_line(st: &mut State) {
        let t = st.tlm;
        let ty = -st.leading;
        st.tlm[4] = ty * t[2] + t[4];
        st.tlm[5] = ty * t[3] + t[5];
    }

    /// Whether the current font writes vertically (a CID font with a `-V` CMap).
    fn vertical(&self, st: &State) -> bool {
        match (&st.inline_font, st.font) {
            (Some(f), _) => f.vertical,
            (None, Some(id)) => self.fonts.get(&id).is_some_and(|f| f.vertical),
            _ => false,
        }
    }

    fn scale(st: &State) -> f32 {
        (st.tlm[3].abs().max(st.tlm[0].abs())).max(1e-3) * st.size.abs().max(1e-3)
    }

    /// Before showing text: a new line if the baseline moved, a space if the text jumped.
    fn position(&mut self, st: &mut State) {
        let scale = Self::scale(st);
        let (x, y) = (st.tlm[4], st.tlm[5]);
        if let Some((ly, start, end)) = st.last {
            if self.vertical(st) {
                // Vertical writing (縦書き): a column is a line; another column starts a new one.
                if (x - start).abs() > scale * 0.5 {
                    self.flush();
                }
                return;
            }
            if (y - ly).abs() > scale * 0.5 {
                self.flush();
            } else if (x - end > scale * 0.8 || x < start - scale * 0.1)
                && !self.line.is_empty()
                && !self.line.ends_with(' ')
            {
                // A gap on the baseline, or text placed before the previous text (a footer
                // drawn after the page number to its right): separate words.
                self.line.push(' ');
            }
        }
    }

    /// After showing the text from byte `before` of the line on: where it (roughly) ends. The
    /// advance is not measured (no glyph widths): half an em per character.
    fn advance(&mut self, st: &mut State, before: usize) {
        let scale = Self::scale(st);
        let (x, y) = (st.tlm[4], st.tlm[5]);
        let shown = self.line[before..].chars().count() as f32;
        st.last = Some((y, x, x + shown * scale * 0.5));
    }

    fn show(&mut self, st: &mut State, operand: &Object) {
        if self.marked.contains(&true) {
            // Inside marked content with /ActualText, which has been added instead.
            return;
        }
        self.position(st);
        let font_owned;
        let font: &Font = if let Some(f) = &st.inline_font {
            font_owned = std::rc::Rc::clone(f);
            &font_owned
        } else if let Some(f) = st.font.and_then(|id| self.fonts.get(&id)) {
            f
        } else {
            return;
        };
        let before = self.line.len();
        match operand {
            Object::String(bytes, _) if !font.decode(bytes, &mut self.line) => {
                self.page.undecodable = true;
            }
            Object::Array(items) => {
                for item in items {
                    match item {
                        Object::String(bytes, _) if !font.decode(bytes, &mut self.line) => {
                            self.page.undecodable = true;
                        }
                        // A move of more than a quarter em to the right is a word gap.
                        Object::Integer(_) | Object::Real(_) => {
                            let v = item.as_float().unwrap_or(0.0);
                            if v < -250.0 && !self.line.ends_with(' ') && self.line.len() > before {
                                self.line.push(' ');
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        self.advance(st, before);
    }
}

/// How one font turns the bytes of a string into text.
#[derive(Default)]
struct Font {
    /// ToUnicode: (code length, code) → text.
    map: FxHashMap<(u8, u32), String>,
    /// Code lengths and ranges of the CMap's codespace (byte-wise bounds).
    codespace: Vec<(Vec<u8>, Vec<u8>)>,
    /// Without a usable ToUnicode: a predefined CMap or a simple encoding.
    fallback: Fallback,
    /// Two-byte codes (CID font) when the codespace is unknown.
    two_byte: bool,
    /// Vertical writing (`Identity-V`, `UniJIS-UCS2-V` …).
    vertical: bool,
}

#[derive(Default)]
enum Fallback {
    #[default]
    None,
    Utf16Be,
    ShiftJis,
    EucJp,
    /// A simple font: one byte per code through lopdf's encoding tables.
    Simple(Box<[Option<char>; 256]>),
}

impl Font {
    fn new(doc: &Document, dict: &Dictionary, max: usize) -> Font {
        let subtype = dict
            .get(b"Subtype")
            .and_then(Object::as_name)
            .unwrap_or(b"");
        let cid = subtype == b"Type0";
        let mut font = Font {
            two_byte: cid,
            ..Font::default()
        };
        if let Ok(Object::Stream(s)) = dict.get_deref(b"ToUnicode", doc) {
            if let Ok(data) = s.decompressed_content_with_limit(max) {
                font.parse_cmap(&data);
            } else if let Ok(data) = s.get_plain_content_with_limit(max) {
                font.parse_cmap(&data);
            }
        }
        let encoding = dict.get_deref(b"Encoding", doc).ok();
        if cid {
            if let Some(Object::Name(n)) = encoding {
                let n = String::from_utf8_lossy(n);
                font.vertical = n.ends_with("-V");
                font.fallback =
                    if n.starts_with("Uni") && (n.contains("UCS2") || n.contains("UTF16")) {
                        Fallback::Utf16Be
                    } else if n.contains("RKSJ") {
                        Fallback::ShiftJis
                    } else if n.starts_with("EUC") {
                        Fallback::EucJp
                    } else {
                        Fallback::None
                    };
            }
        } else if subtype != b"Type3" || encoding.is_some() {
            let mut table = Box::new([None; 256]);
            match dict.get_font_encoding_with_limit(doc, max) {
                Ok(enc) => {
                    for (b, slot) in table.iter_mut().enumerate() {
                        let mut s = String::new();
                        if enc.write_to_string(&[b as u8], &mut s).is_ok() {
                            *slot = s.chars().next();
                        }
                    }
                }
                // No usable encoding: WinAnsi for the bytes that are ASCII.
                Err(_) => {
                    for (b, slot) in table.iter_mut().enumerate().take(0x7F).skip(0x20) {
                        *slot = char::from_u32(b as u32);
                    }
                }
            }
            font.fallback = Fallback::Simple(table);
        }
        font
    }

    /// Parses `begincodespacerange`, `beginbfchar` and `beginbfrange` sections.
    fn parse_cmap(&mut self, data: &[u8]) {
        let tokens = cmap_tokens(data);
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                Tok::Op(op) if op == "begincodespacerange" => {
                    i += 1;
                    while let (Some(Tok::Hex(lo)), Some(Tok::Hex(hi))) =
                        (tokens.get(i), tokens.get(i + 1))
                    {
                        if lo.len() == hi.len() && !lo.is_empty() && lo.len() <= 4 {
                            self.codespace.push((lo.clone(), hi.clone()));
                        }
                        i += 2;
                    }
                }
                Tok::Op(op) if op == "beginbfchar" => {
                    i += 1;
                    while let (Some(Tok::Hex(src)), Some(Tok::Hex(dst))) =
                        (tokens.get(i), tokens.get(i + 1))
                    {
                        if let Some(code) = code_of(src) {
                            self.map.insert((src.len() as u8, code), utf16be(dst));
                        }
                        i += 2;
                    }
                }
                Tok::Op(op) if op == "beginbfrange" => {
                    i += 1;
                    while let (Some(Tok::Hex(lo)), Some(Tok::Hex(hi))) =
                        (tokens.get(i), tokens.get(i + 1))
                    {
                        let (Some(a), Some(b)) = (code_of(lo), code_of(hi)) else {
                            i += 3;
                            continue;
                        };
                        let len = lo.len() as u8;
                        // At most 65,536 codes per range: a malformed range cannot fill memory.
                        let b = b.min(a.saturating_add(0xFFFF));
                        match tokens.get(i + 2) {
                            Some(Tok::Hex(dst)) => {
                                let mut units: Vec<u16> = dst
                                    .chunks(2)
                                    .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                                    .collect();
                                for code in a..=b {
                                    // A font has at most 65,536 glyphs: a CMap mapping more
                                    // codes is malformed, and is not followed further.
                                    if self.map.len() >= MAX_CODES {
                                        break;
                                    }
                                    self.map
                                        .insert((len, code), String::from_utf16_lossy(&units));
                                    if let Some(last) = units.last_mut() {
                                        *last = last.wrapping_add(1);
                                    }
                                }
                                i += 3;
                            }
                            Some(Tok::ArrayStart) => {
                                i += 3;
                                let mut code = a;
                                while let Some(Tok::Hex(dst)) = tokens.get(i) {
                                    if code <= b && self.map.len() < MAX_CODES {
                                        self.map.insert((len, code), utf16be(dst));
                                    }
                                    code = code.saturating_add(1);
                                    i += 1;
                                }
                                if matches!(tokens.get(i), Some(Tok::ArrayEnd)) {
                                    i += 1;
                                }
                            }
                            _ => break,
                        }
                    }
                }
                _ => i += 1,
            }
        }
    }

    /// The length of the code starting at `bytes[0]`, from the codespace ranges.
    fn code_len(&self, bytes: &[u8]) -> usize {
        for (lo, hi) in &self.codespace {
            let n = lo.len();
            if bytes.len() >= n && (0..n).all(|k| lo[k] <= bytes[k] && bytes[k] <= hi[k]) {
                return n;
            }
        }
        if self.two_byte {
            2
        } else {
            1
        }
    }

    /// Appends the text of `bytes`; false if some codes could not be decoded.
    fn decode(&self, bytes: &[u8], out: &mut String) -> bool {
        if self.map.is_empty() {
            return self.decode_fallback(bytes, out);
        }
        let mut ok = true;
        let mut i = 0;
        while i < bytes.len() {
            let n = self.code_len(&bytes[i..]).min(bytes.len() - i);
            let code = bytes[i..i + n]
                .iter()
                .fold(0u32, |c, &b| (c << 8) | u32::from(b));
            if let Some(s) = self.map.get(&(n as u8, code)) {
                out.extend(s.chars().filter(|&c| c != '\0'));
            } else if !self.decode_fallback(&bytes[i..i + n], out) {
                ok = false;
            }
            i += n;
        }
        ok
    }

    fn decode_fallback(&self, bytes: &[u8], out: &mut String) -> bool {
        match &self.fallback {
            Fallback::None => false,
            Fallback::Utf16Be => {
                out.push_str(&encoding_rs::UTF_16BE.decode_without_bom_handling(bytes).0);
                true
            }
            Fallback::ShiftJis => {
                out.push_str(&encoding_rs::SHIFT_JIS.decode_without_bom_handling(bytes).0);
                true
            }
            Fallback::EucJp => {
                out.push_str(&encoding_rs::EUC_JP.decode_without_bom_handling(bytes).0);
                true
            }
            Fallback::Simple(table) => {
                let mut ok = true;
                for &b in bytes {
                    match table[b as usize] {
                        Some(c) => out.push(c),
                        None => ok = false,
                    }
                }
                ok
            }
        }
    }
}

/// The most codes one ToUnicode CMap may map (bounds memory on malformed CMaps).
const MAX_CODES: usize = 1 << 18;

/// A PDF text string: UTF-16BE with a byte order mark, UTF-8 with one, else PDFDocEncoding
/// (taken as Latin-1, which it equals for the printable characters).
fn text_string(b: &[u8]) -> String {
    if let Some(rest) = b.strip_prefix(b"\xFE\xFF") {
        utf16be(rest)
    } else if let Some(rest) = b.strip_prefix(b"\xEF\xBB\xBF") {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        b.iter().map(|&c| char::from(c)).collect()
    }
}

fn code_of(hex: &[u8]) -> Option<u32> {
    (!hex.is_empty() && hex.len() <= 4)
        .then(|| hex.iter().fold(0u32, |c, &b| (c << 8) | u32::from(b)))
}

fn utf16be(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
        .collect();
    String::from_utf16_lossy(&units)
}

#[derive(Debug, PartialEq)]
enum Tok {
    Hex(Vec<u8>),
    Op(String),
    ArrayStart,
    ArrayEnd,
}

/// The tokens of a CMap that matter here: hex strings, operators and array brackets. Other
/// tokens (names, numbers, dictionaries, literal strings) become operators that match nothing.
fn cmap_tokens(data: &[u8]) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'%' => {
                while i < data.len() && data[i] != b'\n' && data[i] != b'\r' {
                    i += 1;
                }
            }
            b'<' if data.get(i + 1) == Some(&b'<') => {
                out.push(Tok::Op("<<".to_owned()));
                i += 2;
            }
            b'<' => {
                let mut digits = Vec::new();
                i += 1;
                while i < data.len() && data[i] != b'>' {
                    if data[i].is_ascii_hexdigit() {
                        digits.push(data[i]);
                    }
                    i += 1;
                }
                i += 1;
                if digits.len() % 2 == 1 {
                    digits.push(b'0');
                }
                let bytes = digits
                    .chunks(2)
                    .map(|p| {
                        let h = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
                        (h(p[0]) << 4) | h(p[1])
                    })
                    .collect();
                out.push(Tok::Hex(bytes));
            }
            b'[' => {
                out.push(Tok::ArrayStart);
                i += 1;
            }
            b']' => {
                out.push(Tok::ArrayEnd);
                i += 1;
            }
            b'(' => {
                // A literal string: skipped, with nesting and escapes.
                let mut depth = 0;
                while i < data.len() {
                    match data[i] {
                        b'\\' => i += 1,
                        b'(' => depth += 1,
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                i += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                out.push(Tok::Op(String::new()));
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => {
                let start = i;
                while i < data.len()
                    && !data[i].is_ascii_whitespace()
                    && !matches!(data[i], b'<' | b'[' | b']' | b'(' | b'%' | b'/')
                    || (i == start && data[i] == b'/')
                {
                    i += 1;
                }
                if i == start {
                    i += 1;
                }
                out.push(Tok::Op(
                    String::from_utf8_lossy(&data[start..i]).into_owned(),
                ));
            }
        }
    }
    out
}

/// A one-line description of the pages, for tests and diagnostics.
pub fn describe(pages: &[Page]) -> String {
    let mut s = String::new();
    for (i, p) in pages.iter().enumerate() {
        let _ = writeln!(
            s,
            "page {}: {} lines, images {}",
            i + 1,
            p.lines.len(),
            p.images
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_unicode_bfchar_and_bfrange() {
        let cmap = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap
1 begincodespacerange <0000> <FFFF> endcodespacerange
2 beginbfchar <0003> <5C71> <0004> <7530> endbfchar
2 beginbfrange <0010> <0012> <0030> <0020> <0021> [<592A> <90CE>] endbfrange
endcmap";
        let mut f = Font {
            two_byte: true,
            ..Font::default()
        };
        f.parse_cmap(cmap);
        let mut out = String::new();
        assert!(f.decode(&[0, 3, 0, 4, 0, 0x20, 0, 0x21, 0, 0x10, 0, 0x12], &mut out));
        assert_eq!(out, "山田太郎02");
        let mut out = String::new();
        assert!(!f.decode(&[0, 0x99], &mut out));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(
            read(b"%PDF-1.4\nnot really", PdfLimits::default()),
            Err(PdfError::Malformed(_))
        ));
        let mut f = Font::default();
        f.parse_cmap(b"beginbfrange <00> <FFFFFFFF> <0041> endbfrange <0 ( ((\\");
        assert!(f.map.len() <= 0x1_0000);
    }
}
