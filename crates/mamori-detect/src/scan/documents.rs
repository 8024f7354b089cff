//! The scanner's side of documents: PDF pages, office paragraphs, mailbox messages, Outlook
//! messages and images, read by `pdf`, `office`, `msg` and `ocr` and scanned here line by line
//! with their page, slide or message in each finding. Each document is one file in the report;
//! attachments of messages are scanned as files of their own (`box.mbox!message 3!list.csv`).

use super::{fail, Ctx, FileReport, Format, LineScanner, Place, Scanner, Status};
use crate::office::{self, Para};
use crate::{msg, ocr, pdf};
use std::io::{BufReader, Cursor, Read, Seek};

/// PNG, JPEG, TIFF, GIF, BMP and WebP signatures: images tesseract (leptonica) reads.
pub(super) fn image_magic(prefix: &[u8]) -> bool {
    prefix.starts_with(b"\x89PNG\r\n\x1a\n")
        || prefix.starts_with(b"\xFF\xD8\xFF")
        || prefix.starts_with(b"II*\0")
        || prefix.starts_with(b"MM\0*")
        || prefix.starts_with(b"GIF87a")
        || prefix.starts_with(b"GIF89a")
        || (prefix.starts_with(b"BM") && prefix.len() > 14 && prefix[6..10] == [0, 0, 0, 0])
        || (prefix.starts_with(b"RIFF") && prefix.get(8..12) == Some(b"WEBP"))
}

/// OCR of an image, or why not.
fn ocr_image(on: bool, image: &[u8]) -> Result<String, ocr::OcrError> {
    if on {
        ocr::image_text(image)
    } else {
        Err(ocr::OcrError::Off)
    }
}

/// Errors that mean "deliberately not read" (encrypted, image only) rather than "broken".
fn status_of(e: String) -> Status {
    if e.starts_with("not read:") {
        Status::Skipped(e)
    } else {
        Status::Failed(e)
    }
}

impl Scanner {
    pub(super) fn scan_document<R: Read + Seek>(
        &self,
        ctx: &mut Ctx<'_>,
        name: &str,
        format: Format,
        mut r: R,
        size: u64,
        depth: u32,
    ) {
        let mut report = FileReport::new(name, format.name());
        report.bytes = size;
        if format == Format::Mbox {
            report.encoding = Some("UTF-8");
            let result = self.scan_mbox(ctx, &mut report, &mut r, depth);
            if let Err(e) = result {
                report.status = Status::Failed(e);
            }
            ctx.reports.push(report);
            return;
        }
        if size > self.limits.max_office_file {
            report.status = Status::Skipped(format!(
                "not read: larger than {} MiB",
                self.limits.max_office_file >> 20
            ));
            ctx.reports.push(report);
            return;
        }
        let max = self.limits.max_in_memory;
        if matches!(format, Format::Docx | Format::Pptx | Format::Odf) {
            // A password-protected office document is an OLE file holding the encrypted package.
            let mut magic = [0u8; 8];
            let n = r.read(&mut magic).unwrap_or(0);
            if n == 8 && magic.starts_with(b"\xD0\xCF\x11\xE0") {
                let mut buf = magic.to_vec();
                let _ = r.read_to_end(&mut buf);
                report.status = if office::cfb_kind(&buf) == "encrypted" {
                    Status::Skipped("not read: encrypted".to_owned())
                } else {
                    Status::Failed(format!("not a readable {} (an OLE file)", format.name()))
                };
                ctx.reports.push(report);
                return;
            }
            if let Err(e) = r.rewind() {
                return fail(ctx, name, format.name(), size, &format!("cannot read: {e}"));
            }
        }
        let paras = match format {
            Format::Docx => office::docx(&mut r, max),
            Format::Pptx => office::pptx(&mut r, max),
            Format::Odf => office::odf(&mut r, max),
            Format::Doc | Format::Msg | Format::Pdf | Format::Image => {
                let mut buf = Vec::new();
                if let Err(e) = r.read_to_end(&mut buf) {
                    return fail(ctx, name, format.name(), size, &format!("cannot read: {e}"));
                }
                match format {
                    Format::Doc => office::doc(&buf),
                    Format::Msg => {
                        return self.scan_msg(ctx, report, &buf, depth);
                    }
                    Format::Pdf => {
                        self.scan_pdf(ctx, &mut report, &buf);
                        ctx.reports.push(report);
                        return;
                    }
                    _ => {
                        match ocr_image(self.limits.ocr, &buf) {
                            Ok(text) => {
                                report.encoding = Some("OCR");
                                let mut sc = LineScanner::new(
                                    &self.engine,
                                    name,
                                    "OCR",
                                    &mut report,
                                    &mut *ctx.sink,
                                );
                                for (i, l) in text.lines().enumerate() {
                                    sc.line_at(i as u64 + 1, l);
                                }
                            }
                            Err(e) => report.status = Status::Skipped(format!("not read: {e}")),
                        }
                        ctx.reports.push(report);
                        return;
                    }
                }
            }
            _ => Err(format!("{} is not a document format", format.name())),
        };
        match paras {
            Ok(doc) => {
                report.encoding = Some("UTF-8");
                report.warnings.extend(doc.warnings);
                self.scan_paras(ctx, &mut report, "UTF-8", &doc.paras);
            }
            Err(e) => report.status = status_of(e),
        }
        ctx.reports.push(report);
    }

    /// Paragraphs: the paragraph number is the line, its part the place; a paragraph with
    /// soft breaks is scanned as several lines with the same number.
    fn scan_paras(
        &self,
        ctx: &mut Ctx<'_>,
        report: &mut FileReport,
        encoding: &'static str,
        paras: &[Para],
    ) {
        let name = report.path.clone();
        let mut sc = LineScanner::new(&self.engine, &name, encoding, report, &mut *ctx.sink);
        for p in paras {
            sc.place = p.place;
            for l in p.text.split('\n') {
                sc.line_at(p.number, l);
            }
        }
    }

    fn scan_pdf(&self, ctx: &mut Ctx<'_>, report: &mut FileReport, buf: &[u8]) {
        let limits = pdf::PdfLimits {
            max_content: usize::try_from(self.limits.max_in_memory).unwrap_or(usize::MAX),
            ..pdf::PdfLimits::default()
        };
        let (pages, warnings) = match pdf::read(buf, limits) {
            Ok(p) => p,
            Err(pdf::PdfError::Encrypted) => {
                report.status = Status::Skipped("not read: encrypted".to_owned());
                return;
            }
            Err(pdf::PdfError::Malformed(e)) => {
                report.status = Status::Failed(format!("not a readable PDF: {e}"));
                return;
            }
        };
        report.encoding = Some("UTF-8");
        report.warnings.extend(warnings);
        let name = report.path.clone();
        let mut unread: Vec<u64> = Vec::new();
        let mut reason = None;
        let mut with_text = 0u64;
        let mut ocr_pages = 0u64;
        for (i, page) in pages.iter().enumerate() {
            let n = i as u64 + 1;
            let lines: Vec<String> = if page.is_image_only() {
                let text = if self.limits.ocr {
                    ocr::pdf_page_text(buf, n)
                } else {
                    Err(ocr::OcrError::Off)
                };
                match text {
                    Ok(text) => {
                        ocr_pages += 1;
                        text.lines().map(str::to_owned).collect()
                    }
                    Err(e) => {
                        unread.push(n);
                        reason.get_or_insert(e);
                        continue;
                    }
                }
            } else {
                page.lines.clone()
            };
            with_text += 1;
            let mut sc = LineScanner::new(&self.engine, &name, "UTF-8", report, &mut *ctx.sink);
            sc.place = Some(Place::Page(n));
            for (k, l) in lines.iter().enumerate() {
                sc.line_at(k as u64 + 1, l);
            }
        }
        if ocr_pages > 0 {
            report.warnings.push(format!(
                "{ocr_pages} pages without a text layer read by OCR"
            ));
        }
        if let Some(e) = reason {
            if with_text == 0 {
                report.status = Status::Skipped(format!("not read: {e}"));
            } else {
                let list: Vec<String> = unread.iter().map(u64::to_string).collect();
                report
                    .warnings
                    .push(format!("pages {} not read: {e}", list.join(", ")));
            }
        }
    }

    fn scan_msg(&self, ctx: &mut Ctx<'_>, mut report: FileReport, buf: &[u8], depth: u32) {
        let m = match msg::read_msg(buf, self.limits.max_in_memory) {
            Ok(m) => m,
            Err(e) => {
                report.status = status_of(e);
                ctx.reports.push(report);
                return;
            }
        };
        report.encoding = Some("UTF-16LE");
        report.warnings.extend(m.warnings);
        let name = report.path.clone();
        {
            let mut sc =
                LineScanner::new(&self.engine, &name, "UTF-16LE", &mut report, &mut *ctx.sink);
            for (i, l) in m.lines.iter().enumerate() {
                sc.line_at(i as u64 + 1, l);
            }
        }
        ctx.reports.push(report);
        for (att, data) in m.attachments {
            if depth + 1 > self.limits.max_depth {
                let mut r = FileReport::new(&format!("{name}!{att}"), "unknown");
                r.status = Status::Skipped(format!(
                    "attachment nested deeper than {}",
                    self.limits.max_depth
                ));
                ctx.reports.push(r);
                continue;
            }
            let len = data.len() as u64;
            self.scan_seekable(
                ctx,
                &format!("{name}!{att}"),
                Cursor::new(data),
                len,
                depth + 1,
            );
        }
    }

    /// An mbox, one message at a time: findings carry the message number and the line of the
    /// mailbox file; attachments are files `box.mbox!message N!name`.
    fn scan_mbox(
        &self,
        ctx: &mut Ctx<'_>,
        report: &mut FileReport,
        r: &mut dyn Read,
        depth: u32,
    ) -> Result<(), String> {
        let name = report.path.clone();
        let max = self.limits.max_in_memory;
        let mut attachments: Vec<(String, Vec<u8>)> = Vec::new();
        let mut warnings = Vec::new();
        let result = msg::split_mbox(BufReader::with_capacity(1 << 16, r), max, |m| {
            if m.oversized {
                warnings.push(format!(
                    "message {} (line {}) larger than {} MiB; not read",
                    m.number,
                    m.from_line,
                    max >> 20
                ));
                return;
            }
            let Some(mail) = crate::formats::parse_eml(&m.bytes) else {
                warnings.push(format!(
                    "message {} (line {}) is not a readable e-mail",
                    m.number, m.from_line
                ));
                return;
            };
            {
                let mut sc =
                    LineScanner::new(&self.engine, &name, mail.charset, report, &mut *ctx.sink);
                sc.place = Some(Place::Message(m.number));
                for (line, text) in &mail.lines {
                    sc.line_at(m.from_line + line, text);
                }
            }
            for (att, data) in mail.attachments {
                attachments.push((format!("{name}!message {}!{att}", m.number), data));
            }
            // Attachments are scanned as soon as their message is done, to keep memory bounded.
            for (member, data) in attachments.drain(..) {
                if depth + 1 > self.limits.max_depth {
                    continue;
                }
                let len = data.len() as u64;
                self.scan_seekable(ctx, &member, Cursor::new(data), len, depth + 1);
            }
        });
        report.warnings.extend(warnings);
        result.map(|_| ()).map_err(|e| e.to_string())
    }
}
