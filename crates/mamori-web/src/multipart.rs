//! A small reader for `multipart/form-data` bodies (file uploads). The visitor middleware has
//! already read the whole body (within the body limit) to check the CSRF token, so the parts
//! are cut from those bytes; no streaming is needed.

/// One part of a form: a field or a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub data: Vec<u8>,
}

/// The boundary of a `multipart/form-data` content type, if it is one.
pub fn boundary(content_type: &str) -> Option<String> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("boundary"))
            .then(|| v.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty() && b.len() <= 200)
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| &hay[i..i + needle.len()] == needle)
}

/// The value of `key="…"` in a Content-Disposition header.
fn param(header: &str, key: &str) -> Option<String> {
    header.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        (k.trim().eq_ignore_ascii_case(key)).then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// The parts of a body; a malformed body gives the parts read before the problem.
pub fn parse(body: &[u8], boundary: &str) -> Vec<Part> {
    let delim = format!("--{boundary}");
    let delim = delim.as_bytes();
    let mut out = Vec::new();
    let Some(mut pos) = find(body, delim, 0) else {
        return out;
    };
    loop {
        let start = pos + delim.len();
        if body[start..].starts_with(b"--") {
            break;
        }
        let Some(head_end) = find(body, b"\r\n\r\n", start) else {
            break;
        };
        let head = String::from_utf8_lossy(&body[start..head_end]);
        let data_start = head_end + 4;
        let mut close = Vec::with_capacity(delim.len() + 2);
        close.extend_from_slice(b"\r\n");
        close.extend_from_slice(delim);
        let Some(end) = find(body, &close, data_start) else {
            break;
        };
        let disposition = head
            .split("\r\n")
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))
            .unwrap_or("");
        if let Some(name) = param(disposition, "name") {
            out.push(Part {
                name,
                filename: param(disposition, "filename"),
                data: body[data_start..end].to_vec(),
            });
        }
        pos = end + 2;
    }
    out
}

/// A text field of a parsed form.
pub fn field<'a>(parts: &'a [Part], name: &str) -> Option<&'a Part> {
    parts.iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_cut_from_the_body() {
        let ct = "multipart/form-data; boundary=----abc";
        let b = boundary(ct).unwrap();
        assert_eq!(b, "----abc");
        let body = b"------abc\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n------abc\r\nContent-Disposition: form-data; name=\"file\"; filename=\"l.csv\"\r\nContent-Type: text/csv\r\n\r\na,b\r\n1,2\r\n\r\n------abc--\r\n";
        let parts = parse(body, &b);
        assert_eq!(parts.len(), 2);
        assert_eq!(field(&parts, "csrf").unwrap().data, b"tok");
        let f = field(&parts, "file").unwrap();
        assert_eq!(f.filename.as_deref(), Some("l.csv"));
        assert_eq!(f.data, b"a,b\r\n1,2\r\n");
        assert!(boundary("application/x-www-form-urlencoded").is_none());
        assert!(parse(b"garbage", "x").is_empty());
    }
}
