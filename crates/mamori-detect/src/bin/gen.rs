//! `mamori-detect-gen --seed N --docs N --out DIR`: writes a labelled corpus (testdata module)
//! and `DIR/labels.jsonl`. With `--bulk-mb M` it instead writes about M megabytes of mixed
//! documents for benchmarks (labels not written).

use mamori_detect::testdata;
use std::io::Write;
use std::path::PathBuf;

fn main() -> std::process::ExitCode {
    let mut seed = 1u64;
    let mut docs = 90usize;
    let mut out = PathBuf::from("corpus");
    let mut bulk_mb = 0u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().unwrap_or_default();
        match a.as_str() {
            "--seed" => seed = v.parse().unwrap_or(1),
            "--docs" => docs = v.parse().unwrap_or(90),
            "--out" => out = PathBuf::from(v),
            "--bulk-mb" => bulk_mb = v.parse().unwrap_or(0),
            _ => {
                eprintln!(
                    "usage: mamori-detect-gen [--seed N] [--docs N] [--out DIR] [--bulk-mb M]"
                );
                return std::process::ExitCode::from(2);
            }
        }
    }
    if let Err(e) = run(seed, docs, &out, bulk_mb) {
        eprintln!("mamori-detect-gen: {e}");
        return std::process::ExitCode::from(1);
    }
    std::process::ExitCode::SUCCESS
}

fn run(seed: u64, docs: usize, out: &std::path::Path, bulk_mb: u64) -> std::io::Result<()> {
    std::fs::create_dir_all(out)?;
    if bulk_mb > 0 {
        // Repeat generated documents (each file about 1–4 MB) until the size is reached.
        let mut written = 0u64;
        let mut round = 0u64;
        while written < bulk_mb << 20 {
            let (files, _) = testdata::generate(seed + round, 45);
            let mut by_ext: std::collections::HashMap<String, Vec<u8>> =
                std::collections::HashMap::new();
            for f in files {
                if [".xlsx", ".zip", ".eml"]
                    .iter()
                    .any(|e| f.path.ends_with(e))
                {
                    continue;
                }
                // Re-encode everything as UTF-8 text for the throughput corpus.
                let text = match mamori_detect::decode::sniff(&f.bytes, true) {
                    s if s.encoding == encoding_rs::UTF_8 => {
                        String::from_utf8_lossy(&f.bytes[s.bom_len..]).into_owned()
                    }
                    s => s.encoding.decode(&f.bytes).0.into_owned(),
                };
                let ext = f.path.rsplit('.').next().unwrap_or("txt").to_owned();
                let buf = by_ext.entry(ext).or_default();
                // Keep one header line per file for tabular files.
                let body = if buf.is_empty() {
                    text.as_str()
                } else {
                    text.split_once('\n').map_or("", |(_, b)| b)
                };
                buf.extend_from_slice(body.as_bytes());
            }
            for (ext, mut buf) in by_ext {
                // Grow each file to ~2 MB by repetition of its body.
                let body_start = buf.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
                let body = buf[body_start..].to_vec();
                while buf.len() < 2 << 20 && !body.is_empty() {
                    buf.extend_from_slice(&body);
                }
                let path = out.join(format!("bulk{round:05}.{ext}"));
                std::fs::write(&path, &buf)?;
                written += buf.len() as u64;
            }
            round += 1;
        }
        println!(
            "wrote {} MiB in {} rounds to {}",
            written >> 20,
            round,
            out.display()
        );
        return Ok(());
    }
    let (files, labels) = testdata::generate(seed, docs);
    for f in &files {
        std::fs::write(out.join(&f.path), &f.bytes)?;
    }
    let mut l = std::io::BufWriter::new(std::fs::File::create(out.join("labels.jsonl"))?);
    for label in &labels {
        serde_json::to_writer(&mut l, label)?;
        l.write_all(b"\n")?;
    }
    println!(
        "wrote {} files and {} labels to {}",
        files.len(),
        labels.len(),
        out.display()
    );
    Ok(())
}
