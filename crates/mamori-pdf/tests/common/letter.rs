//! A realistic notice letter, shared by the letter tests and the `bench_letters` example.

use mamori_pdf::{Block, Letter, Recipient, Sender};

/// Letter number `i`: a one-page notice with this person's leaked items.
#[must_use]
pub fn sample_letter(i: usize) -> Letter {
    Letter {
        recipient: Recipient {
            postal_code: "1000001".into(),
            address_lines: vec![
                "東京都千代田区千代田一丁目1番1号".into(),
                format!("サンプルマンション{}号室", 100 + i % 900),
            ],
            name: "髙橋 花子".into(),
        },
        sender: Sender {
            company: "株式会社サンプル商事".into(),
            department: "個人情報お問い合わせ窓口".into(),
            address_lines: vec!["〒530-0001".into(), "大阪府大阪市北区梅田一丁目2番3号".into()],
            phone: "0120-000-000（平日9時〜17時）".into(),
        },
        date: "令和8年12月7日".into(),
        reference: format!("N-2026-{i:06}"),
        title: "個人情報の漏えいに関するお知らせとお詫び".into(),
        body: vec![
            Block::Paragraph(
                "拝啓　平素は格別のご高配を賜り、厚く御礼申し上げます。\n\
                 このたび、当社が運営する会員向けウェブサイトのサーバが第三者による不正アクセスを受け、\
                 お客様の個人情報が漏えいしたおそれがあることが判明いたしました。\
                 お客様には多大なるご迷惑とご心配をおかけしますことを、深くお詫び申し上げます。"
                    .into(),
            ),
            Block::Heading("1. 漏えいしたおそれのあるお客様の情報".into()),
            Block::List(vec![
                "氏名".into(),
                "住所".into(),
                "電話番号".into(),
                "メールアドレス".into(),
                "生年月日".into(),
            ]),
            Block::Heading("2. 発生した事態と当社の対応".into()),
            Block::Paragraph(
                "令和8年11月20日、当社のサーバに不審な通信を検知し、直ちに外部からの接続を遮断しました。\
                 調査の結果、既知の脆弱性を悪用されたことが判明したため、修正を適用し、\
                 個人情報保護委員会への報告を行いました。"
                    .into(),
            ),
            Block::Heading("3. お客様へのお願い".into()),
            Block::Paragraph(
                "当社を装った不審な電話やメールにご注意ください。当社からお客様にパスワードをお尋ねすることはありません。\
                 ご不明な点は、上記のお問い合わせ番号を添えて、下記の窓口までお問い合わせください。"
                    .into(),
            ),
        ],
        closing: vec!["敬具".into()],
    }
}
