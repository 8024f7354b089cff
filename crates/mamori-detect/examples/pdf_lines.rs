fn main() {
    let bytes = if let Some(path) = std::env::args().nth(1) {
        std::fs::read(path).unwrap()
    } else {
        mamori_pdf::render(&mamori_pdf::Document { title: "面談記録".into(), blocks: vec![
            mamori_pdf::Block::Paragraph("相談者の氏名：山本浩二。本日、電話にて相談を受けた。内容は以下のとおりであり、長い文章が折り返されて両端揃えになることを確認するための文章である。Taro Yamada (taro@example.jp)".into()),
            mamori_pdf::Block::Fields(vec![("電話番号".into(), "090-1234-5678".into())]),
            mamori_pdf::Block::List(vec!["一つ目".into(), "二つ目".into()]),
        ], footer: Some("株式会社サンプル".into()), ..Default::default() }).unwrap()
    };
    let t = std::time::Instant::now();
    let (pages, w) =
        mamori_detect::pdf::read(&bytes, mamori_detect::pdf::PdfLimits::default()).unwrap();
    let el = t.elapsed();
    for (i, p) in pages.iter().enumerate().take(2) {
        for l in &p.lines {
            println!("{}: {l:?}", i + 1);
        }
    }
    println!("{w:?} {} pages in {el:?}", pages.len());
}
