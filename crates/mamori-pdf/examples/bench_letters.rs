//! Letter rendering speed: `scripts/bench-letters [N]` (release build). Renders N one-page
//! notice letters (default 2,000) four ways and prints a table: one PDF per letter on one
//! thread, one PDF per letter with rayon across all cores, one merged print file on one
//! thread, and merged files of 250 letters each with rayon.

#[path = "../tests/common/letter.rs"]
mod letter;

use std::time::Instant;

use rayon::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(2_000);
    let letters: Vec<_> = (0..n).map(letter::sample_letter).collect();
    // Parse the fonts once before timing, as a long-running server would have.
    mamori_pdf::render_letter(&letters[0])?;
    println!(
        "{n} one-page letters, {} threads for rayon",
        rayon::current_num_threads()
    );
    println!("| mode | pages | seconds | pages/s | KB per letter |");
    println!("| --- | ---: | ---: | ---: | ---: |");

    let row = |mode: &str, pages: usize, secs: f64, bytes: usize| {
        #[allow(clippy::cast_precision_loss)]
        let (p, b) = (pages as f64, bytes as f64);
        println!(
            "| {mode} | {pages} | {secs:.2} | {:.0} | {:.1} |",
            p / secs,
            b / 1024.0 / n as f64
        );
    };

    let t = Instant::now();
    let mut bytes = 0;
    for l in &letters {
        bytes += mamori_pdf::render_letter(l)?.len();
    }
    row(
        "one PDF per letter, 1 thread",
        n,
        t.elapsed().as_secs_f64(),
        bytes,
    );

    let t = Instant::now();
    let sizes: Result<Vec<usize>, _> = letters
        .par_iter()
        .map(|l| mamori_pdf::render_letter(l).map(|b| b.len()))
        .collect();
    row(
        "one PDF per letter, rayon",
        n,
        t.elapsed().as_secs_f64(),
        sizes?.iter().sum(),
    );

    let t = Instant::now();
    let merged = mamori_pdf::render_letters(&letters)?;
    row(
        "one merged file, 1 thread",
        n,
        t.elapsed().as_secs_f64(),
        merged.len(),
    );

    let t = Instant::now();
    let parts: Result<Vec<usize>, _> = letters
        .par_chunks(250)
        .map(|c| mamori_pdf::render_letters(c).map(|b| b.len()))
        .collect();
    row(
        "merged files of 250, rayon",
        n,
        t.elapsed().as_secs_f64(),
        parts?.iter().sum(),
    );
    Ok(())
}
