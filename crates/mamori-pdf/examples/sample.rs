//! Writes /tmp/mamori-sample.pdf: a draft 漏えい等報告 (report to the Personal Information
//! Protection Commission) with the nine items of the report, for looking at the layout.
//!
//! `cargo run -p mamori-pdf --example sample --release [-- --time]`; with `--time` it also
//! renders a one-page letter 200 times and prints the time per document.

use std::time::Instant;

use mamori_pdf::{render, Block, Document};

fn s(text: &str) -> String {
    text.to_string()
}

fn pair(label: &str, value: &str) -> (String, String) {
    (s(label), s(value))
}

fn report() -> Document {
    Document {
        title: s("個人データの漏えい等の事態に関する報告書（速報）"),
        subtitle: Some(s("個人情報保護委員会 御中")),
        meta: vec![
            pair("提出日", "2026年11月24日"),
            pair("報告者", "株式会社サンプル商事"),
            pair("", "代表取締役　山田　太郎"),
        ],
        blocks: vec![
            Block::Fields(vec![
                pair("報告者の名称", "株式会社サンプル商事"),
                pair("法人番号", "1234567890123"),
                pair("住所", "〒100-0013\n東京都千代田区霞が関三丁目２番１号　サンプルビル８階"),
                pair("報告担当者", "情報システム部　佐藤　花子（個人情報保護管理者）"),
                pair("連絡先", "03-1234-5678／privacy@example.co.jp"),
                pair("報告の区分", "速報（個人情報の保護に関する法律施行規則第7条第3号：不正の目的をもって行われたおそれがある行為による漏えい等）"),
                pair("事態を知った日", "2026年11月21日"),
            ]),
            Block::Heading(s("1. 概要")),
            Block::Paragraph(s(
                "2026年11月20日午後11時頃、当社が運営する会員向けウェブサイト「サンプルオンラインストア」のサーバに対し、第三者による不正アクセスが行われ、同サーバに保存されていた会員情報の一部が外部に送信されたおそれがあることが判明した。\n\
                 11月21日午前9時、監視担当者が通常と異なる大量の通信を検知し、直ちに当該サーバをネットワークから切り離した。その後、外部の専門調査会社（フォレンジック調査）に調査を依頼し、現在も調査を継続している。",
            )),
            Block::Heading(s("2. 漏えい等が発生し、又は発生したおそれがある個人データの項目")),
            Block::List(vec![
                s("氏名、生年月日、性別"),
                s("住所、電話番号、メールアドレス"),
                s("購入履歴（商品名、購入日、金額）"),
                s("クレジットカード番号の下4桁及び有効期限（カード番号全体は当社では保有していない。）"),
            ]),
            Block::Heading(s("3. 漏えい等が発生し、又は発生したおそれがある個人データに係る本人の数")),
            Block::Paragraph(s("約12,345人（2026年11月24日時点の調査結果による。調査の進捗により増減する可能性がある。）")),
            Block::Heading(s("4. 原因")),
            Block::Paragraph(s(
                "当該サーバで使用していた電子商取引用ソフトウェア（バージョン 2.3.1）に既知の脆弱性（CVE-2026-12345）が存在し、修正プログラムの適用が遅れていたことから、第三者が当該脆弱性を悪用してサーバ内に不正なプログラムを設置し、データベースに保存された会員情報を外部へ送信したものと推測される。\n\
                 修正プログラムは2026年10月に公開されていたが、社内の検証手順の遅延により適用が予定より約1か月遅れていた。",
            )),
            Block::Heading(s("5. 二次被害又はそのおそれの有無及びその内容")),
            Block::Paragraph(s(
                "現時点で二次被害の報告は受けていない。ただし、漏えいしたおそれのあるメールアドレスを宛先とする、当社を装ったフィッシングメール（なりすましメール）が送信されるおそれがある。また、クレジットカードの下4桁及び有効期限を用いた「カード会社を装う電話」による詐欺のおそれがある。",
            )),
            Block::Heading(s("6. 本人への対応の実施状況")),
            Block::Fields(vec![
                pair("通知の方法", "電子メール及び郵送（メールアドレスが不明な会員、又はメールが不達となった会員に対して郵送する。）"),
                pair("通知の予定日", "2026年11月28日から順次"),
                pair("問合せ窓口", "専用コールセンター（フリーダイヤル 0120-000-000、受付時間 9:00〜18:00、土日祝日を含む）を11月25日に開設予定"),
                pair("その他", "不審なメール・電話への注意喚起を通知文に記載する。カード会社と連携し、不正利用のモニタリングを依頼済み。"),
            ]),
            Block::Heading(s("7. 公表の実施状況")),
            Block::Paragraph(s("2026年11月25日に当社ウェブサイトにおいて公表する予定（「不正アクセスによる個人情報漏えいのおそれに関するお知らせとお詫び」）。")),
            Block::Heading(s("8. 再発防止のための措置")),
            Block::List(vec![
                s("【実施済み】当該サーバの停止、全管理者パスワードの変更、修正プログラムの適用。"),
                s("【実施予定】脆弱性情報の収集と修正プログラム適用の手順を見直し、重要度の高い脆弱性は公開から7日以内に適用する。"),
                s("【実施予定】ウェブアプリケーションファイアウォール（WAF）の導入及び外部機関による脆弱性診断（年2回）。"),
                s("【実施予定】従業員に対する情報セキュリティ教育の実施（2026年12月中）。"),
            ]),
            Block::Heading(s("9. その他参考となる事項")),
            Block::Fields(vec![
                pair("警察への相談", "2026年11月22日、警視庁サイバー犯罪対策課に相談済み（受理番号：第2026-0000号）"),
                pair("他の行政機関への報告", "なし"),
                pair("外国にある第三者への提供", "該当なし"),
                pair("備考", "本報告は速報であり、確報は事態を知った日から60日以内（2027年1月20日まで）に提出する。"),
            ]),
        ],
        footer: Some(s("【訓練】株式会社サンプル商事　漏えい等報告（速報）")),
        watermark: Some(s("下書き")),
    }
}

fn letter() -> Document {
    Document {
        title: s("個人情報の漏えいのおそれに関するお知らせとお詫び"),
        subtitle: None,
        meta: vec![pair("", "2026年11月28日"), pair("", "株式会社サンプル商事")],
        blocks: vec![
            Block::Paragraph(s("山田　花子　様")),
            Block::Paragraph(s(
                "平素より格別のご高配を賜り、厚く御礼申し上げます。\n\
                 このたび、当社が運営するウェブサイトのサーバが第三者による不正アクセスを受け、お客様の個人情報が外部に漏えいしたおそれがあることが判明いたしました。お客様には多大なるご迷惑とご心配をおかけしますことを、深くお詫び申し上げます。",
            )),
            Block::Fields(vec![
                pair("漏えいしたおそれのある情報", "氏名、住所、電話番号、メールアドレス、購入履歴"),
                pair("お問い合わせ先", "専用コールセンター 0120-000-000（9:00〜18:00）"),
            ]),
        ],
        footer: Some(s("株式会社サンプル商事")),
        watermark: None,
    }
}

fn main() {
    let doc = report();
    let bytes = render(&doc).expect("render");
    std::fs::write("/tmp/mamori-sample.pdf", &bytes).expect("write /tmp/mamori-sample.pdf");
    println!("/tmp/mamori-sample.pdf: {} bytes", bytes.len());

    if std::env::args().any(|a| a == "--time") {
        let letter = letter();
        let bytes = render(&letter).expect("render");
        std::fs::write("/tmp/mamori-letter.pdf", &bytes).expect("write");
        println!("/tmp/mamori-letter.pdf: {} bytes", bytes.len());
        for (name, doc) in [("one-page letter", &letter), ("report", &doc)] {
            let n = 200;
            let start = Instant::now();
            for _ in 0..n {
                std::hint::black_box(render(doc).expect("render"));
            }
            let per = start.elapsed() / n;
            println!("{name}: {per:?} per render");
        }
    }
}
