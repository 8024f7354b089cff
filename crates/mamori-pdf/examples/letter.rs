//! Writes a sample notice letter (and a merged file of three) to the given directory:
//! `cargo run -p mamori-pdf --example letter -- /tmp/out`.

#[path = "../tests/common/letter.rs"]
mod letter;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let one = mamori_pdf::render_letter(&letter::sample_letter(1))?;
    std::fs::write(format!("{dir}/letter.pdf"), one)?;
    let three: Vec<_> = (1..=3).map(letter::sample_letter).collect();
    std::fs::write(
        format!("{dir}/letters.pdf"),
        mamori_pdf::render_letters(&three)?,
    )?;
    println!("{dir}/letter.pdf {dir}/letters.pdf");
    Ok(())
}
