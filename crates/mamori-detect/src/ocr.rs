//! OCR of images and of PDF pages without a text layer, with the `tesseract` command and its
//! Japanese model (`tesseract-ocr-jpn` on Debian), run as a child process with a time limit.
//!
//! `MAMORI_TESSERACT` names the tesseract binary (default: `tesseract` on the PATH);
//! `MAMORI_PDFTOPPM` names poppler's `pdftoppm`, which renders a PDF page to an image for it.
//! When the binary or the Japanese model is missing, OCR is unavailable and the caller reports
//! the file as "not read: image only (OCR not installed)" — never as scanned and clean.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Why OCR produced no text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OcrError {
    /// tesseract (or its Japanese model, or pdftoppm for PDF pages) is not installed.
    NotInstalled,
    /// OCR is turned off (`Limits::ocr`).
    Off,
    /// The child ran past the time limit and was killed.
    Timeout,
    Failed(String),
}

impl std::fmt::Display for OcrError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OcrError::NotInstalled => f.write_str("image only (OCR not installed)"),
            OcrError::Off => f.write_str("image only (OCR off)"),
            OcrError::Timeout => f.write_str("image only (OCR timed out)"),
            OcrError::Failed(e) => write!(f, "image only (OCR failed: {e})"),
        }
    }
}

/// Time allowed for one image or page.
pub const TIMEOUT: Duration = Duration::from_mins(2);

fn tesseract_bin() -> String {
    std::env::var("MAMORI_TESSERACT").unwrap_or_else(|_| "tesseract".to_owned())
}

fn pdftoppm_bin() -> String {
    std::env::var("MAMORI_PDFTOPPM").unwrap_or_else(|_| "pdftoppm".to_owned())
}

/// Whether tesseract runs and has the Japanese model. Checked once per binary path.
pub fn available() -> bool {
    static CHECKED: OnceLock<std::sync::Mutex<Vec<(String, bool)>>> = OnceLock::new();
    let bin = tesseract_bin();
    let cache = CHECKED.get_or_init(|| std::sync::Mutex::new(Vec::new()));
    if let Some(&(_, ok)) = cache
        .lock()
        .map(|c| c.iter().find(|(b, _)| *b == bin).cloned())
        .ok()
        .flatten()
        .as_ref()
    {
        return ok;
    }
    let ok = run(&bin, &["--list-langs"], None, Duration::from_secs(20)).is_ok_and(|out| {
        String::from_utf8_lossy(&out)
            .lines()
            .any(|l| l.trim() == "jpn")
    });
    if let Ok(mut c) = cache.lock() {
        c.push((bin, ok));
    }
    ok
}

/// Runs `bin args`, feeding `input` on stdin, and returns its stdout; killed after `timeout`.
fn run(
    bin: &str,
    args: &[&str],
    input: Option<&[u8]>,
    timeout: Duration,
) -> Result<Vec<u8>, OcrError> {
    let mut child = Command::new(bin)
        .args(args)
        // Files are scanned in parallel already: one thread per OCR (tesseract's advice).
        .env("OMP_THREAD_LIMIT", "1")
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
                OcrError::NotInstalled
            }
            _ => OcrError::Failed(e.to_string()),
        })?;
    let writer = child.stdin.take().map(|mut stdin| {
        let data = input.unwrap_or_default().to_vec();
        std::thread::spawn(move || {
            // A child that exits early closes the pipe; the error is its exit status's business.
            let _ = stdin.write_all(&data);
        })
    });
    let mut stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.read_to_end(&mut out);
        }
        out
    });
    let mut stderr = child.stderr.take();
    let err_reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.take(4096).read_to_end(&mut out);
        }
        out
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(OcrError::Timeout);
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(OcrError::Failed(e.to_string())),
        }
    };
    if let Some(w) = writer {
        let _ = w.join();
    }
    let out = reader.join().unwrap_or_default();
    let err = err_reader.join().unwrap_or_default();
    if !status.success() {
        let msg = String::from_utf8_lossy(&err);
        let first = msg.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        return Err(OcrError::Failed(format!(
            "{bin} exited with {status}: {first}"
        )));
    }
    Ok(out)
}

/// The text of an image (PNG, JPEG, TIFF …), by `tesseract stdin stdout -l jpn+eng`.
pub fn image_text(image: &[u8]) -> Result<String, OcrError> {
    if !available() {
        return Err(OcrError::NotInstalled);
    }
    let out = run(
        &tesseract_bin(),
        &["stdin", "stdout", "-l", "jpn+eng", "--psm", "3"],
        Some(image),
        TIMEOUT,
    )?;
    Ok(tidy(&String::from_utf8_lossy(&out)))
}

/// The text of page `page` (1-based) of a PDF: rendered at 300 dpi by pdftoppm, then OCR.
pub fn pdf_page_text(pdf: &[u8], page: u64) -> Result<String, OcrError> {
    if !available() {
        return Err(OcrError::NotInstalled);
    }
    let n = page.to_string();
    let png = run(
        &pdftoppm_bin(),
        &["-r", "300", "-gray", "-f", &n, "-l", &n, "-png", "-"],
        Some(pdf),
        TIMEOUT,
    )?;
    image_text(&png)
}

/// tesseract puts spaces between Japanese characters ("山 田 太 郎"): a space between two
/// characters that are neither ASCII is dropped. Form feeds (page ends) become line breaks.
pub fn tidy(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == '\x0C' {
            out.push('\n');
            continue;
        }
        if c == ' ' {
            let prev = out.chars().last();
            let next = chars.get(i + 1).copied();
            if let (Some(p), Some(n)) = (prev, next) {
                if !p.is_ascii() && !n.is_ascii() {
                    continue;
                }
            }
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_between_japanese_characters_are_dropped() {
        assert_eq!(
            tidy("氏 名 : 山 田 太 郎\n電話 090 1234"),
            "氏名 : 山田太郎\n電話 090 1234"
        );
    }

    #[test]
    fn a_missing_binary_is_not_installed() {
        assert_eq!(
            run(
                "/nonexistent/tesseract",
                &["--version"],
                None,
                Duration::from_secs(5)
            ),
            Err(OcrError::NotInstalled)
        );
    }
}
