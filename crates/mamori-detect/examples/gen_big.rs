fn main() {
    let mut blocks = Vec::new();
    for i in 0..1200 {
        blocks.push(mamori_pdf::Block::Paragraph(format!("{i}. 相談者の氏名：山本浩二。電話 090-1234-{:04}、メール user{i}@example.jp。本日、電話にて相談を受けた。内容は以下のとおりである。", i % 10000)));
    }
    let pdf = mamori_pdf::render(&mamori_pdf::Document {
        title: "記録".into(),
        blocks,
        ..Default::default()
    })
    .unwrap();
    std::fs::write("/tmp/lo/big.pdf", pdf).unwrap();
}
